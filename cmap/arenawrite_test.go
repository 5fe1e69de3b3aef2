package cmap_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
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

// TestArenaShortKeyWritesVsModel: the light writes of short string keys
// (4 to 16 bytes, the default hasher: arenawrite.go locates them in their
// home group with Load's steps, and inserts into the group's free slot
// when it stops probes) against a built-in map, in one-segment maps of 8
// to 52 keys under churn: tables of one to eight groups, whose groups
// fill, so that keys lie beyond their home group, behind groups that hold
// TOMBSTONEs and no EMPTY byte. The keys have every length from 4 to 16,
// with NUL bytes and invalid UTF-8.
func TestArenaShortKeyWritesVsModel(t *testing.T) {
	var keys []string
	for n := 4; n <= 16; n++ {
		keys = append(keys,
			strings.Repeat("a", n-1)+"1",
			strings.Repeat("a", n-1)+"2",
			"1"+strings.Repeat("a", n-1),
			"\x00"+strings.Repeat("\xff", n-1),
		)
	}
	ops := 50_000
	if testing.Short() {
		ops = 10_000
	}
	for _, nk := range []int{8, 12, 20, len(keys)} {
		t.Run(fmt.Sprint(nk, " keys"), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(nk), 2))
			var sub []string
			for _, i := range r.Perm(len(keys))[:nk] {
				sub = append(sub, keys[i])
			}
			shortKeyChurn(t, r, sub, ops)
		})
	}
}

// shortKeyChurn makes ops random writes and loads of keys on a new
// one-segment map and a built-in map, comparing each result, and the
// contents and invariants every 97 operations.
func shortKeyChurn(t *testing.T, r *rand.Rand, keys []string, ops int) {
	m := cmap.New[string, uint64](cmap.WithSegments(1))
	model := map[string]uint64{}
	for i := range ops {
		k := keys[r.IntN(len(keys))]
		v := uint64(i)
		wantV, wantOK := model[k]
		var gotV uint64
		var gotOK bool
		op := r.IntN(7)
		switch op {
		case 0:
			m.Store(k, v)
			model[k] = v
			gotV, gotOK = wantV, wantOK // nothing returned
		case 1:
			gotV, gotOK = m.Swap(k, v)
			model[k] = v
		case 2:
			gotV, gotOK = m.LoadAndDelete(k)
			delete(model, k)
		case 3:
			m.Delete(k)
			delete(model, k)
			gotV, gotOK = wantV, wantOK
		case 4: // Compute: add, or delete every third present key
			del := v%3 == 0
			gotV, gotOK = m.Compute(k, func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
				if loaded != wantOK || old != wantV {
					t.Fatalf("op %d: Compute(%q) saw %d, %v; want %d, %v", i, k, old, loaded, wantV, wantOK)
				}
				if loaded && del {
					return 0, cmap.DeleteOp
				}
				return old + 1, cmap.UpdateOp
			})
			if wantOK && del {
				delete(model, k)
				if gotV != wantV || gotOK {
					t.Fatalf("op %d: Compute(%q) deleting returned %d, %v; want %d, false", i, k, gotV, gotOK, wantV)
				}
				gotV, gotOK = wantV, wantOK
			} else {
				model[k] = wantV + 1
				if gotV != wantV+1 || !gotOK {
					t.Fatalf("op %d: Compute(%q) returned %d, %v; want %d, true", i, k, gotV, gotOK, wantV+1)
				}
				gotV, gotOK = wantV, wantOK
			}
		case 5:
			gotV, gotOK = m.Load(k)
		default:
			gotV, gotOK = m.LoadOrStore(k, v)
			if !wantOK {
				model[k] = v
				if gotV != v {
					t.Fatalf("op %d: LoadOrStore(%q) stored and returned %d, want %d", i, k, gotV, v)
				}
				gotV = wantV
			}
		}
		if gotV != wantV || gotOK != wantOK {
			t.Fatalf("op %d (%d) on %q: got %d, %v; the model holds %d, %v", i, op, k, gotV, gotOK, wantV, wantOK)
		}
		if i%97 == 0 {
			check(t, m)
			if got := maps.Collect(m.All()); !maps.Equal(got, model) {
				t.Fatalf("after op %d the map differs from the model:%s", i, diff(got, model))
			}
		}
	}
	check(t, m)
	if got := maps.Collect(m.All()); !maps.Equal(got, model) || m.Len() != len(model) {
		t.Fatalf("the map differs from the model:%s (Len %d, want %d)", diff(got, model), m.Len(), len(model))
	}
}

// TestArenaShortKeyWordsCollide: two short keys of one length whose hashes
// agree in the bits that a probe compares before the key (the tag, bits
// 32 to 38, and the arena ref's check bits, 40 to 55), in the one group of
// a one-segment map, so that only the comparison of the keys' words tells
// them apart: for each of the key's two words (KeyWords: the first and
// last 8 bytes of a key of 8 to 16 bytes, the first and last 4 of one of
// 4 to 7), a pair that shares that word. Every light write and Load of one
// key must leave the other as it was.
func TestArenaShortKeyWordsCollide(t *testing.T) {
	for _, c := range []struct {
		name string
		key  func(i int) string
	}{
		{"16 bytes, first word shared", func(i int) string { return fmt.Sprintf("prefix--%08x", i) }},
		{"16 bytes, last word shared", func(i int) string { return fmt.Sprintf("%08x--suffix", i) }},
		{"11 bytes, first word shared", func(i int) string { return "pre-fix-" + b64(i) }},
		{"11 bytes, last word shared", func(i int) string { return b64(i) + "-suffix-" }},
		{"7 bytes, first word shared", func(i int) string { return "abcd" + b64(i) }},
		{"7 bytes, last word shared", func(i int) string { return b64(i) + "wxyz" }},
		{"4 bytes", func(i int) string { return "k" + b64(i) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := cmap.New[string, uint64](cmap.WithSegments(1))
			k1, k2 := collidingKeys(t, m, c.key)
			if a, b := table2words(k1, k2); !a && !b && len(k1) > 4 {
				t.Fatalf("%q and %q share neither word", k1, k2)
			}
			m.Store(k1, 1)
			m.Store(k2, 2)
			if g := m.TableGroups()[0]; g != 1 {
				t.Fatalf("the table has %d groups, want 1 (one home group)", g)
			}
			steps := []struct {
				do   func()
				want map[string]uint64
			}{
				{func() {}, map[string]uint64{k1: 1, k2: 2}},
				{func() { m.Store(k2, 3) }, map[string]uint64{k1: 1, k2: 3}},
				{func() { m.Swap(k1, 4) }, map[string]uint64{k1: 4, k2: 3}},
				{func() {
					m.Compute(k2, func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return o + 10, cmap.UpdateOp })
				}, map[string]uint64{k1: 4, k2: 13}},
				{func() { m.Delete(k1) }, map[string]uint64{k2: 13}},
				{func() { m.Store(k1, 5) }, map[string]uint64{k1: 5, k2: 13}},
				{func() { m.LoadAndDelete(k2) }, map[string]uint64{k1: 5}},
				{func() {
					m.Compute(k2, func(o uint64, _ bool) (uint64, cmap.ComputeOp) { return o + 6, cmap.UpdateOp })
				}, map[string]uint64{k1: 5, k2: 6}},
				{func() {
					m.Compute(k1, func(uint64, bool) (uint64, cmap.ComputeOp) { return 0, cmap.DeleteOp })
				}, map[string]uint64{k2: 6}},
			}
			for i, s := range steps {
				s.do()
				for k, want := range map[string]uint64{k1: s.want[k1], k2: s.want[k2]} {
					_, present := s.want[k]
					if v, ok := m.Load(k); v != want || ok != present {
						t.Fatalf("step %d: Load(%q) = %d, %v; want %d, %v", i, k, v, ok, want, present)
					}
				}
				if got := maps.Collect(m.All()); !maps.Equal(got, s.want) {
					t.Fatalf("step %d: the map holds%s", i, diff(got, s.want))
				}
				check(t, m)
			}
		})
	}
}

// collidingKeys returns two distinct keys key(i), key(j) whose hashes in m
// agree in bits 32 to 38 and 40 to 55.
func collidingKeys(t *testing.T, m *cmap.Map[string, uint64], key func(int) string) (string, string) {
	t.Helper()
	seen := map[uint64]string{}
	for i := range 1 << 18 {
		k := key(i)
		h := m.HashOf(k)
		bits := h>>32&0x7F | h>>40&0xFFFF<<7
		if o, ok := seen[bits]; ok && o != k && len(o) == len(k) {
			return o, k
		}
		seen[bits] = k
	}
	t.Fatal("no two keys collide")
	return "", ""
}

// b64 returns 3 bytes that name i < 2^18.
func b64(i int) string {
	return string([]byte{byte('0' + i&0x3F), byte('0' + i>>6&0x3F), byte('0' + i>>12&0x3F)})
}

// table2words reports whether keys k1 and k2, of one length from 4 to 16
// bytes, share their first and their last word as KeyWords reads them:
// 8 bytes each from 8 bytes on, 4 below.
func table2words(k1, k2 string) (first, last bool) {
	w := 4
	if len(k1) >= 8 {
		w = 8
	}
	return k1[:w] == k2[:w], k1[len(k1)-w:] == k2[len(k2)-w:]
}
