package cmap_test

import (
	"encoding/json"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestOnEvictPanicsAndReenters: OnEvict runs after every lock is
// released. If it panics, the panic propagates and the write's eviction
// and insert stand, with no lock held and the bookkeeping consistent. It
// may call any method of the map, including writes that evict again
// (OnEvict then runs nested), Snapshot, Oldest, PopOldest, Range and
// Clear, through every evicting write method and UnmarshalJSON.
func TestOnEvictPanicsAndReenters(t *testing.T) {
	const bound = 3
	var m *cmap.Map[int, int]
	mode, depth, calls := "", 0, 0
	m = cmap.New[int, int](cmap.WithSegments(2), cmap.WithMaxLen(bound, cmap.EvictOldest),
		cmap.WithOnEvict(func(k, v int) {
			calls++
			switch mode {
			case "panic":
				panic("OnEvict exploded")
			case "reenter":
				if depth++; depth > 4 {
					return
				}
				m.Store(1000+calls, 0) // evicts again: nested OnEvict
				m.Snapshot()
				m.Oldest()
				m.Range(func(int, int) bool { return true })
				m.LoadOrCompute(2000+calls, func() int { return 0 }) // evicts too
				if depth == 3 {
					m.PopOldest()
				}
			case "clear":
				m.Clear()
			}
		}))
	defer watchdog("OnEvict re-entering the map")()
	for k := range bound {
		m.Store(k, k)
	}

	mode = "panic"
	if p := recovered(func() { m.Store(10, 10) }); p != "OnEvict exploded" {
		t.Fatalf("panic %v, want OnEvict's", p)
	}
	if _, ok := m.Load(10); !ok || m.Len() != bound || len(m.LockedSegments()) != 0 {
		t.Fatalf("after OnEvict panicked: new key present %v, Len %d, locked %v", ok, m.Len(), m.LockedSegments())
	}
	if _, ok := m.Load(0); ok {
		t.Fatal("the evicted key is back")
	}
	check(t, m)
	if p := recovered(func() { json.Unmarshal([]byte(`{"20":1,"21":2}`), m) }); p != "OnEvict exploded" {
		t.Fatalf("UnmarshalJSON: panic %v, want OnEvict's", p)
	}
	if _, ok := m.Load(20); !ok || m.Len() != bound || len(m.LockedSegments()) != 0 {
		t.Fatalf("UnmarshalJSON stopped by OnEvict: 20 present %v, Len %d", ok, m.Len())
	}
	check(t, m)

	mode = "reenter"
	for i, write := range []func(k int){
		func(k int) { m.Store(k, k) },
		func(k int) { m.Swap(k, k) },
		func(k int) { m.TryStore(k, k) },
		func(k int) { m.LoadOrStore(k, k) },
		func(k int) { m.LoadOrCompute(k, func() int { return k }) },
		func(k int) { m.LoadOrTryCompute(k, func() (int, error) { return k, nil }) },
		func(k int) { m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return k, cmap.UpdateOp }) },
		func(k int) { json.Unmarshal([]byte(`{"`+string(rune('0'+k%10))+`9999":1}`), m) },
	} {
		for m.Len() < bound {
			m.Store(-m.Len()-1, 0)
		}
		depth = 0
		write(100 + i)
		if m.Len() > bound || len(m.LockedSegments()) != 0 {
			t.Fatalf("write %d: Len %d, locked %v", i, m.Len(), m.LockedSegments())
		}
		check(t, m)
	}

	mode = "clear"
	for m.Len() < bound {
		m.Store(-m.Len()-1, 0)
	}
	m.Store(500, 500)
	if m.Len() != 0 {
		t.Fatalf("Len = %d after OnEvict cleared the map", m.Len())
	}
	check(t, m)
}
