package cmap_test

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/segmap/segmap/cmap"
)

// The in-package benchmarks: Load, Store and a 90/5/5 mix on cmap beside
// sync.Map and xsync v4 in one run, for benchstat:
//
//	go test ./cmap -run '^$' -bench . -count 6 | benchstat -col /impl -
//
// The full comparison (more maps, workloads and reports) is `go run ./bench`.

type benchMap interface {
	Load(uint64) (uint64, bool)
	Store(uint64, uint64)
	Delete(uint64)
}

type syncMap struct{ m sync.Map }

func (s *syncMap) Load(k uint64) (uint64, bool) {
	v, ok := s.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(uint64), true
}
func (s *syncMap) Store(k, v uint64) { s.m.Store(k, v) }
func (s *syncMap) Delete(k uint64)   { s.m.Delete(k) }

// entryMap is a benchMap over a cmap.Map whose value type holds a
// pointer, so that it keeps the entry layout (uint64 values make a flat
// map): the two layouts side by side.
type entryMap struct{ m *cmap.Map[uint64, entryVal] }

type entryVal struct {
	v uint64
	_ *byte
}

func (e entryMap) Load(k uint64) (uint64, bool) {
	v, ok := e.m.Load(k)
	return v.v, ok
}
func (e entryMap) Store(k, v uint64) { e.m.Store(k, entryVal{v: v}) }
func (e entryMap) Delete(k uint64)   { e.m.Delete(k) }

var impls = []struct {
	name string
	make func() benchMap
}{
	{"cmap", func() benchMap { return cmap.New[uint64, uint64]() }},
	{"cmap-entries", func() benchMap { return entryMap{cmap.New[uint64, entryVal]()} }},
	{"sync.Map", func() benchMap { return new(syncMap) }},
	{"xsync.v4", func() benchMap { return xsync.NewMap[uint64, uint64]() }},
}

const benchN = 1 << 16

func filled(make func() benchMap) benchMap {
	m := make()
	for k := range uint64(benchN) {
		m.Store(k, k)
	}
	return m
}

// benchKeys runs op from every goroutine on a filled map of each impl,
// with keys from a per-goroutine LCG: k>>48 < benchN, always present.
func benchKeys(b *testing.B, op func(m benchMap, k uint64)) {
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			m := filled(impl.make)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				k := rand.Uint64()
				for pb.Next() {
					k = k*6364136223846793005 + 1442695040888963407
					op(m, k)
				}
			})
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	benchKeys(b, func(m benchMap, k uint64) { m.Load(k >> 48) })
}

func BenchmarkStoreExisting(b *testing.B) {
	benchKeys(b, func(m benchMap, k uint64) { m.Store(k>>48, k) })
}

func BenchmarkStoreNew(b *testing.B) {
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			m := impl.make()
			b.ReportAllocs()
			k := uint64(0)
			for b.Loop() {
				m.Store(k, k)
				k++
			}
		})
	}
}

func BenchmarkMix90(b *testing.B) {
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			m := filled(impl.make)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				k := rand.Uint64()
				for pb.Next() {
					k = k*6364136223846793005 + 1442695040888963407
					key := k >> 47 // over 2×benchN: half the loads miss
					switch op := k >> 20 & 127; {
					case op < 6:
						m.Store(key, k)
					case op < 12:
						m.Delete(key)
					default:
						m.Load(key)
					}
				}
			})
		})
	}
}

func BenchmarkLoadString(b *testing.B) {
	keys := make([]string, benchN)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	type stringMap interface {
		Load(string) (int, bool)
		Store(string, int)
	}
	for _, impl := range []struct {
		name string
		m    stringMap
	}{
		{"cmap", cmap.New[string, int]()},
		{"xsync.v4", xsync.NewMap[string, int]()},
	} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			for i, k := range keys {
				impl.m.Store(k, i)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := rand.IntN(benchN)
				for pb.Next() {
					i = (i + 7919) & (benchN - 1)
					impl.m.Load(keys[i])
				}
			})
		})
	}
}
