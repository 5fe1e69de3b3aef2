package table

import (
	"hash/maphash"
	"strconv"
	"testing"
)

var sink uint64

func BenchmarkHashString(b *testing.B) {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	h := MakeHasher[string](nil, 0)
	b.Run("impl=Hasher", func(b *testing.B) {
		i := 0
		for b.Loop() {
			sink += h.Hash(keys[i&1023])
			i++
		}
	})
	seed := maphash.MakeSeed()
	b.Run("impl=maphash.Comparable", func(b *testing.B) {
		i := 0
		for b.Loop() {
			sink += maphash.Comparable(seed, keys[i&1023])
			i++
		}
	})
	b.Run("impl=maphash.String", func(b *testing.B) {
		i := 0
		for b.Loop() {
			sink += maphash.String(seed, keys[i&1023])
			i++
		}
	})
}

func BenchmarkHashUint64(b *testing.B) {
	h := MakeHasher[uint64](nil, 0)
	b.Run("impl=Hasher", func(b *testing.B) {
		i := uint64(0)
		for b.Loop() {
			sink += h.Hash(i)
			i++
		}
	})
	seed := maphash.MakeSeed()
	b.Run("impl=maphash.Comparable", func(b *testing.B) {
		i := uint64(0)
		for b.Loop() {
			sink += maphash.Comparable(seed, i)
			i++
		}
	})
}
