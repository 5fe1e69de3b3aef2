package cmap_test

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// arenaKeys returns n distinct keys of 16 bytes and more.
func arenaKeys(prefix string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s-%012d%s", prefix, i, strings.Repeat("\x00", i%7))
	}
	return keys
}

// TestArenaAllocs: in an arena map (string keys, small pointer-free
// values), updating a present key allocates nothing, through every write
// method; inserting new keys allocates only when a chunk of an arena
// fills, at most 0.01 allocations per key amortised (capacity reserved,
// so no table grows).
func TestArenaAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	if cmap.Invariants {
		t.Skip("the invariant checks of -tags segmap_invariants allocate")
	}
	const n = 20000
	keys := arenaKeys("k", 2*n)
	m := cmap.New[string, uint64](cmap.WithCapacity(2 * n))
	big := cmap.New[string, [3]uint64](cmap.WithCapacity(2 * n)) // spare slot
	if m.Stats().Layout != "arena" || big.Stats().Layout != "arena" {
		t.Fatal("not the arena layout")
	}
	for _, k := range keys[:1000] {
		m.Store(k, 1)
		big.Store(k, [3]uint64{1})
	}
	i := 0
	next := func() string { i++; return keys[i%1000] }
	for _, tt := range []struct {
		name string
		f    func()
	}{
		{"Load hit", func() { m.Load(next()) }},
		{"Load miss", func() { m.Load("absent") }},
		{"Store existing", func() { m.Store(next(), 2) }},
		{"Swap", func() { m.Swap(next(), 3) }},
		{"CompareAndSwap", func() { k := next(); v, _ := m.Load(k); m.CompareAndSwap(k, v, v+1) }},
		{"Compute update", func() {
			m.Compute(next(), func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return o + 1, cmap.UpdateOp })
		}},
		{"LoadOrStore present", func() { m.LoadOrStore(next(), 5) }},
		{"spare-slot Store existing", func() { big.Store(next(), [3]uint64{2}) }},
		{"spare-slot Compute update", func() {
			big.Compute(next(), func(o [3]uint64, _ bool) ([3]uint64, cmap.ComputeOp) { o[0]++; return o, cmap.UpdateOp })
		}},
	} {
		if got := testing.AllocsPerRun(500, tt.f); got != 0 {
			t.Errorf("%s: %v allocs/op, want 0", tt.name, got)
		}
	}
	j := 1000
	if got := testing.AllocsPerRun(n, func() { m.Store(keys[j], 1); j++ }); got > 0.01 {
		t.Errorf("Store of a new key: %v allocs/op amortised, want <= 0.01", got)
	}
}

// TestArenaHeapObjects: an arena map holds no heap object per entry:
// storing 1e6 string keys into reserved capacity grows the heap's object
// count by the arenas' chunks only (a few hundred).
func TestArenaHeapObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("1e6 keys")
	}
	const n = 1_000_000
	keys := arenaKeys("key", n)
	m := cmap.New[string, uint64]()
	m.Reserve(n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, k := range keys {
		m.Store(k, uint64(i))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapObjects) - int64(before.HeapObjects); grown > 5000 {
		t.Fatalf("heap objects grew by %d for %d keys", grown, n)
	}
	if m.Len() != n {
		t.Fatalf("Len %d", m.Len())
	}
	runtime.KeepAlive(m)
}

// TestArenaKeysOutliveMap: the keys that an arena map hands out (Range,
// All, Keys, a Snapshot's All) are strings over its arenas' bytes; they
// stay valid and unchanged after the map is cleared, rebuilt (deletes
// that compact, growth) and dropped, and the garbage collector has run.
func TestArenaKeysOutliveMap(t *testing.T) {
	keys := arenaKeys("outlive", 5000)
	want := make(map[string]bool, len(keys))
	m := cmap.New[string, uint64]()
	for i, k := range keys {
		m.Store(k, uint64(i))
		want[k] = true
	}
	var got [][]string
	add := func(f func(yield func(string) bool)) {
		var ks []string
		f(func(k string) bool { ks = append(ks, k); return true })
		got = append(got, ks)
	}
	add(func(y func(string) bool) { m.Range(func(k string, _ uint64) bool { return y(k) }) })
	add(func(y func(string) bool) {
		for k := range m.All() {
			if !y(k) {
				return
			}
		}
	})
	add(func(y func(string) bool) {
		for k := range m.Keys() {
			if !y(k) {
				return
			}
		}
	})
	s := m.Snapshot()
	add(func(y func(string) bool) {
		for k := range s.All() {
			if !y(k) {
				return
			}
		}
	})
	s = nil
	// Rebuild: delete half (compactions), grow, then clear and drop.
	for _, k := range keys[:2500] {
		m.Delete(k)
	}
	for _, k := range arenaKeys("more", 20000) {
		m.Store(k, 0)
	}
	if err := m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
	m.Clear()
	m = nil
	for range 3 {
		runtime.GC()
	}
	for i, ks := range got {
		if len(ks) != len(want) {
			t.Fatalf("iteration %d gave %d keys, want %d", i, len(ks), len(want))
		}
		seen := make(map[string]bool, len(ks))
		for _, k := range ks {
			if !want[k] || seen[k] {
				t.Fatalf("iteration %d: key %q changed after the map was dropped", i, k)
			}
			seen[k] = true
		}
	}
}

// TestArenaJSON: an arena map's JSON round-trips keys with NUL bytes and
// long keys.
func TestArenaJSON(t *testing.T) {
	m := cmap.New[string, int]()
	want := map[string]int{"": 1, "a\x00b": 2, strings.Repeat("long", 100): 3}
	for k, v := range want {
		m.Store(k, v)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	m2 := cmap.New[string, int]()
	if err := json.Unmarshal(b, m2); err != nil {
		t.Fatal(err)
	}
	if got := contents(m2); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("round trip: %v, want %v", got, want)
	}
}

// TestArenaGarbageBounded: deleting and storing keys again and again
// keeps every segment's arena within the garbage bound
// (CheckInvariants checks it on every table), and the map's contents
// right.
func TestArenaGarbageBounded(t *testing.T) {
	m := cmap.New[string, int](cmap.WithSegments(2))
	keys := arenaKeys("garbage", 300)
	for round := range 30 {
		for i, k := range keys {
			if (i+round)%3 == 0 {
				m.Delete(k)
			} else {
				m.Store(k, round)
			}
		}
		if err := m.CheckInvariants(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	for i, k := range keys {
		v, ok := m.Load(k)
		if want := (i+29)%3 != 0; ok != want || ok && v != 29 {
			t.Fatalf("key %q: %d, %v", k, v, ok)
		}
	}
}

// TestArenaCompactionKeepsSlots: the compaction that a delete may need
// (the arena's garbage bound) copies the table verbatim with a fresh
// arena: it hashes no key (a hasher that panics on every key but the one
// deleted does not panic in the deletes that compact), counts as a resize
// without changing the capacity, and leaves a snapshot that shares the
// old table, and the keys and values, as they were.
func TestArenaCompactionKeepsSlots(t *testing.T) {
	var armed atomic.Pointer[string] // while set, hashing another key panics
	ms := maphash.MakeSeed()
	hash := func(seed uint64, k string) uint64 {
		if a := armed.Load(); a != nil && *a != k {
			panic("hashed " + k + " while deleting " + *a)
		}
		return maphash.String(ms, k) ^ seed
	}
	m := cmap.New[string, int](cmap.WithSegments(1), cmap.WithHasher(hash))
	keys := arenaKeys("compact", 200)
	for i, k := range keys {
		m.Store(k, i)
	}
	snap := m.Snapshot()
	cap0, resizes := m.Stats().Capacity, m.Stats().Resizes
	compactions := 0
	for round := range 20 {
		for i, k := range keys {
			armed.Store(&k)
			if r := recovered(func() { m.Delete(k) }); r != nil {
				t.Fatalf("Delete(%q): %v", k, r)
			}
			armed.Store(nil)
			if r := m.Stats().Resizes; r != resizes {
				compactions += int(r - resizes)
				resizes = r
			}
			m.Store(k, i+round)
		}
	}
	if compactions == 0 {
		t.Fatal("no compaction in 4000 deletes")
	}
	if c := m.Stats().Capacity; c != cap0 {
		t.Fatalf("capacity %d after the compactions, was %d", c, cap0)
	}
	for i, k := range keys {
		if v, ok := m.Load(k); !ok || v != i+19 {
			t.Fatalf("Load(%q) = %d, %v; want %d", k, v, ok, i+19)
		}
		if v, ok := snap.Load(k); !ok || v != i {
			t.Fatalf("snapshot's Load(%q) = %d, %v; want %d", k, v, ok, i)
		}
	}
	if n := snap.Len(); n != len(keys) {
		t.Fatalf("snapshot holds %d keys, want %d", n, len(keys))
	}
	if err := m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
