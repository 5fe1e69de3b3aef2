package cmap_test

import (
	"fmt"
	"maps"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// arenaOps are the writes that take an arena map's light path
// (arenawrite.go), each given the map and a key it holds with value 1 or
// a key it does not hold; want is the map's content after it.
var arenaOps = []struct {
	name    string
	present bool
	do      func(m *cmap.Map[string, uint64], k string)
	want    func(was map[string]uint64, k string) // applies the write to was
}{
	{"Store over", true, func(m *cmap.Map[string, uint64], k string) { m.Store(k, 7) }, func(w map[string]uint64, k string) { w[k] = 7 }},
	{"Store new", false, func(m *cmap.Map[string, uint64], k string) { m.Store(k, 7) }, func(w map[string]uint64, k string) { w[k] = 7 }},
	{"Swap", true, func(m *cmap.Map[string, uint64], k string) { m.Swap(k, 7) }, func(w map[string]uint64, k string) { w[k] = 7 }},
	{"Delete", true, func(m *cmap.Map[string, uint64], k string) { m.Delete(k) }, func(w map[string]uint64, k string) { delete(w, k) }},
	{"LoadAndDelete", true, func(m *cmap.Map[string, uint64], k string) { m.LoadAndDelete(k) }, func(w map[string]uint64, k string) { delete(w, k) }},
	{"LoadOrStore new", false, func(m *cmap.Map[string, uint64], k string) { m.LoadOrStore(k, 7) }, func(w map[string]uint64, k string) { w[k] = 7 }},
	{"CompareAndSwap", true, func(m *cmap.Map[string, uint64], k string) { m.CompareAndSwap(k, 1, 7) }, func(w map[string]uint64, k string) { w[k] = 7 }},
	{"CompareAndDelete", true, func(m *cmap.Map[string, uint64], k string) { m.CompareAndDelete(k, 1) }, func(w map[string]uint64, k string) { delete(w, k) }},
	{"Compute update", true, func(m *cmap.Map[string, uint64], k string) {
		m.Compute(k, func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return o + 6, cmap.UpdateOp })
	}, func(w map[string]uint64, k string) { w[k] = 7 }},
	{"Compute delete", true, func(m *cmap.Map[string, uint64], k string) {
		m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { return 0, cmap.DeleteOp })
	}, func(w map[string]uint64, k string) { delete(w, k) }},
	{"Compute new", false, func(m *cmap.Map[string, uint64], k string) {
		m.Compute(k, func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return o + 7, cmap.UpdateOp })
	}, func(w map[string]uint64, k string) { w[k] = 7 }},
}

// TestArenaLightWritesCopyShared: every light write of an arena map
// (Store, Swap, LoadOrStore, Delete, LoadAndDelete, CompareAndSwap,
// CompareAndDelete, Compute) copies a table that a
// snapshot or a running iterator shares before it changes it, as the
// write engine does: the snapshot, and the rest of the iteration, still
// show the map as it was, and the map shows the write.
func TestArenaLightWritesCopyShared(t *testing.T) {
	for _, op := range arenaOps {
		for _, holder := range []string{"Snapshot", "All"} {
			t.Run(op.name+"/"+holder, func(t *testing.T) {
				m := cmap.New[string, uint64](cmap.WithSegments(1))
				was := map[string]uint64{}
				for i := range 50 {
					k := fmt.Sprintf("key-%d", i)
					m.Store(k, 1)
					was[k] = 1
				}
				k := "key-17"
				if !op.present {
					k = "key-new"
				}
				want := maps.Clone(was)
				op.want(want, k)
				seen := map[string]uint64{}
				switch holder {
				case "Snapshot":
					s := m.Snapshot()
					op.do(m, k)
					maps.Insert(seen, s.All())
				case "All":
					first := true
					for key, v := range m.All() {
						if first { // the table is pinned now
							op.do(m, k)
							first = false
						}
						seen[key] = v
					}
				}
				if !maps.Equal(seen, was) {
					t.Errorf("the %s saw the write: %v, want %v", holder, diff(seen, was), was[k])
				}
				if got := maps.Collect(m.All()); !maps.Equal(got, want) {
					t.Errorf("after the write the map holds %v", diff(got, want))
				}
			})
		}
	}
}

// valueIn returns k's value in m.
func valueIn(m *cmap.Map[string, uint64], k string) uint64 { v, _ := m.Load(k); return v }

// diff describes how got differs from want.
func diff(got, want map[string]uint64) string {
	s := ""
	for k, v := range got {
		if w, ok := want[k]; !ok || w != v {
			s += fmt.Sprintf(" %q=%d (want %d, %v)", k, v, w, ok)
		}
	}
	for k, w := range want {
		if _, ok := got[k]; !ok {
			s += fmt.Sprintf(" %q missing (want %d)", k, w)
		}
	}
	return s
}

// TestArenaDeletesShrink: deleting most keys of an arena map shrinks its
// table, whichever delete does it (Delete, LoadAndDelete,
// CompareAndDelete, Compute's DeleteOp), as the write engine's delete does: a light delete (one that
// needs nothing but the segment lock) must leave a delete that breaks the
// shrink rule to the engine.
func TestArenaDeletesShrink(t *testing.T) {
	dels := map[string]func(m *cmap.Map[string, uint64], k string){
		"Delete":           func(m *cmap.Map[string, uint64], k string) { m.Delete(k) },
		"LoadAndDelete":    func(m *cmap.Map[string, uint64], k string) { m.LoadAndDelete(k) },
		"CompareAndDelete": func(m *cmap.Map[string, uint64], k string) { m.CompareAndDelete(k, valueIn(m, k)) },
		"Compute": func(m *cmap.Map[string, uint64], k string) {
			m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { return 0, cmap.DeleteOp })
		},
	}
	for name, del := range dels {
		t.Run(name, func(t *testing.T) {
			m := cmap.New[string, uint64](cmap.WithSegments(1))
			const n, keep = 20000, 100
			for i := range n {
				m.Store(fmt.Sprintf("key-%d", i), uint64(i))
			}
			peak := m.TableGroups()[0]
			for i := keep; i < n; i++ {
				del(m, fmt.Sprintf("key-%d", i))
				// The shrink rule: a delete that leaves fewer live entries
				// than an eighth of the slots rebuilds the table to the
				// size a growth would choose for them (for twice their
				// number at the load bound of 7/8), if smaller; so no
				// delete leaves fewer than 7/8 of an entry per group.
				if g, live := m.TableGroups()[0], n-1-i+keep; live < g*7/8 && g > 1 {
					t.Fatalf("after %d deletes %d keys are left in %d groups (%d at the peak): the table did not shrink", i-keep+1, live, g, peak)
				}
			}
			if m.Len() != keep {
				t.Errorf("Len = %d, want %d", m.Len(), keep)
			}
			for i := range keep {
				if v, ok := m.Load(fmt.Sprintf("key-%d", i)); !ok || v != uint64(i) {
					t.Fatalf("Load(key-%d) = %d, %v", i, v, ok)
				}
			}
			check(t, m)
		})
	}
}

// TestArenaComputeBadOp: on an arena map, a Compute of a present key
// (the light path) or an absent one (the engine) whose callback returns
// an invalid op or panics leaves the map as it was and its segment
// unlocked.
func TestArenaComputeBadOp(t *testing.T) {
	m := cmap.New[string, uint64]()
	m.Store("present", 1)
	for _, k := range []string{"present", "absent"} {
		for want, f := range map[string]func(uint64, bool) (uint64, cmap.ComputeOp){
			"cmap: Compute: invalid ComputeOp 7": func(uint64, bool) (uint64, cmap.ComputeOp) { return 9, 7 },
			"boom":                               func(uint64, bool) (uint64, cmap.ComputeOp) { panic("boom") },
		} {
			mustPanic(t, want, func() { m.Compute(k, f) })
			if m.SegmentLocked(k) {
				t.Fatalf("Compute(%q) that panicked with %q left its segment locked", k, want)
			}
		}
	}
	if v, ok := m.Load("present"); !ok || v != 1 || m.Len() != 1 {
		t.Fatalf("after the failed Computes: Load(present) = %d, %v; Len = %d", v, ok, m.Len())
	}
	check(t, m)
}
