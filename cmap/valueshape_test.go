package cmap_test

import (
	"fmt"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestLoadValueShapes: Load returns the stored value for every value
// shape its inlined probes read differently: values of at most one word
// (read from one word, with no buffer: zero-size, one byte, four bytes,
// eight) and of several words (through a buffer), in arena maps (string
// keys of 4 to 16 bytes, whose Load also hashes and compares inline, and
// longer) and in flat maps whose key is more than a word. A value read
// from the wrong word of its slot fails it (tried: Value1 reading the
// arena slot's ref). Each map holds 3000 keys, with deletes between
// Loads, so that the slots of every group are used.
func TestLoadValueShapes(t *testing.T) {
	const n = 3000
	short := func(i int) string { return fmt.Sprintf("k%d", i+1000) }           // 5 bytes
	long := func(i int) string { return fmt.Sprintf("a longer key, %012d", i) } // 26 bytes
	pair := func(i int) [2]uint64 { return [2]uint64{uint64(i), ^uint64(i)} }
	t.Run("string→struct{}", func(t *testing.T) {
		checkValueShape(t, "arena", short, func(int) struct{} { return struct{}{} }, n)
		checkValueShape(t, "arena", long, func(int) struct{} { return struct{}{} }, n)
	})
	t.Run("string→uint8", func(t *testing.T) {
		checkValueShape(t, "arena", short, func(i int) uint8 { return uint8(i*7 + 1) }, n)
		checkValueShape(t, "arena", long, func(i int) uint8 { return uint8(i*7 + 1) }, n)
	})
	t.Run("string→int32", func(t *testing.T) {
		checkValueShape(t, "arena", short, func(i int) int32 { return int32(-i*1001 - 1) }, n)
	})
	t.Run("string→uint64", func(t *testing.T) {
		checkValueShape(t, "arena", short, func(i int) uint64 { return ^uint64(i) }, n)
		checkValueShape(t, "arena", long, func(i int) uint64 { return ^uint64(i) }, n)
	})
	t.Run("string→[3]uint64", func(t *testing.T) {
		checkValueShape(t, "arena", short, func(i int) [3]uint64 { return [3]uint64{uint64(i), 7, ^uint64(i)} }, n)
	})
	t.Run("[2]uint64→struct{}", func(t *testing.T) {
		checkValueShape(t, "flat", pair, func(int) struct{} { return struct{}{} }, n)
	})
	t.Run("[2]uint64→uint16", func(t *testing.T) {
		checkValueShape(t, "flat", pair, func(i int) uint16 { return uint16(i*3 + 1) }, n)
	})
	t.Run("[2]uint64→[2]uint64", func(t *testing.T) {
		checkValueShape(t, "flat", pair, func(i int) [2]uint64 { return [2]uint64{^uint64(i), uint64(i) << 3} }, n)
	})
}

// checkValueShape stores n keys of key with the values of val in a new
// map, which must have the given layout, and checks Load of each, of
// keys never stored, and of the keys after half of them are deleted.
func checkValueShape[K comparable, V comparable](t *testing.T, layout string, key func(int) K, val func(int) V, n int) {
	t.Helper()
	m := cmap.New[K, V]()
	if got := m.Stats().Layout; got != layout {
		t.Fatalf("Map[%T, %T]: layout %q, want %q", *new(K), *new(V), got, layout)
	}
	for i := range n {
		m.Store(key(i), val(i))
	}
	check := func(stage string, present func(int) bool) {
		t.Helper()
		for i := range n + n/2 {
			v, ok := m.Load(key(i))
			want := i < n && present(i)
			if ok != want || (ok && v != val(i)) {
				t.Fatalf("Map[%T, %T], %s: Load(%v) = %v, %v; want %v, %v", *new(K), *new(V), stage, key(i), v, ok, val(i), want)
			}
		}
	}
	check("after the inserts", func(int) bool { return true })
	for i := 0; i < n; i += 2 {
		m.Delete(key(i))
	}
	check("after deleting the even keys", func(i int) bool { return i%2 == 1 })
}
