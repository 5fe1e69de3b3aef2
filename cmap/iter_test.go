package cmap_test

import (
	"maps"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestSnapshotsInsideIteration: Range's and All's f take snapshots and
// write (inserts that grow tables, deletes that shrink them, updates),
// on every kind of map. Each snapshot equals the model at its instant
// and stays so; the iteration visits every key left untouched exactly
// once and no key twice; breaking out of All or panicking in Range's f
// leaves no pin behind (CheckInvariants).
func TestSnapshotsInsideIteration(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []cmap.Option
	}{
		{"plain", nil},
		{"ordered", []cmap.Option{cmap.WithInsertionOrder()}},
		{"RejectNew", []cmap.Option{cmap.WithMaxLen(1<<14, cmap.RejectNew)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := cmap.New[int, int](append([]cmap.Option{cmap.WithSegments(4)}, c.opts...)...)
			model := map[int]int{}
			const stable = 100 // keys 0..99 are never written during the iteration
			for k := range stable + 100 {
				m.Store(k, k)
				model[k] = k
			}
			type held struct {
				m    map[int]int
				snap interface{ Len() int }
				all  func() map[int]int
			}
			var snaps []held
			seen := map[int]int{}
			next := 10000
			i := 0
			m.Range(func(k, v int) bool {
				seen[k]++
				if i++; i%8 == 0 {
					s := m.Snapshot()
					snaps = append(snaps, held{maps.Clone(model), s, func() map[int]int { return maps.Collect(s.All()) }})
				}
				// Writes: new keys (growing), deletes of the churn keys
				// (shrinking), updates.
				for range 2 {
					m.Store(next, next)
					model[next] = next
					next++
				}
				for d := stable + i%100; d < stable+100; d += 37 {
					m.Delete(d)
					delete(model, d)
				}
				m.Store(stable+(i*7)%100, -1)
				model[stable+(i*7)%100] = -1
				return true
			})
			for k := range stable {
				if seen[k] != 1 {
					t.Fatalf("key %d visited %d times", k, seen[k])
				}
			}
			for k, n := range seen {
				if n > 1 {
					t.Fatalf("key %d visited %d times", k, n)
				}
			}
			for j, h := range snaps {
				if got := h.all(); h.snap.Len() != len(h.m) || !maps.Equal(got, h.m) {
					t.Fatalf("snapshot %d: Len %d, %d entries; differs from its instant (%d entries)", j, h.snap.Len(), len(got), len(h.m))
				}
			}
			if !maps.Equal(contents(m), model) {
				t.Fatal("map differs from the model")
			}
			check(t, m)
			for range m.All() {
				m.Snapshot()
				m.Store(next, next)
				next++
				break
			}
			check(t, m) // no pin left by the break
			recovered(func() {
				m.Range(func(int, int) bool { m.Store(next, next); panic("in Range") })
			})
			check(t, m) // nor by the panic
		})
	}
}
