package cmap_test

import (
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

func TestIterators(t *testing.T) {
	m := cmap.New[int, int]()
	want := map[int]int{}
	for i := range 500 {
		m.Store(i, i*i)
		want[i] = i * i
	}
	if got := contents(m); !maps.Equal(got, want) {
		t.Fatal("All differs from what was stored")
	}
	keys := slices.Sorted(m.Keys())
	if !slices.Equal(keys, slices.Sorted(maps.Keys(want))) {
		t.Fatal("Keys differs")
	}
	vals := slices.Sorted(m.Values())
	if !slices.Equal(vals, slices.Sorted(maps.Values(want))) {
		t.Fatal("Values differs")
	}
	n := 0
	m.Range(func(k, v int) bool { n++; return n < 10 })
	if n != 10 {
		t.Fatalf("Range did not stop: %d calls", n)
	}
	n = 0
	for range m.All() {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatalf("All did not stop: %d", n)
	}
	check(t, m) // no pins left behind by the early stops
	// Writes from inside Range are allowed and do not disturb it.
	seen := map[int]bool{}
	m.Range(func(k, v int) bool {
		if seen[k] {
			t.Fatalf("key %d visited twice", k)
		}
		seen[k] = true
		m.Delete(k)
		m.Store(k+1000, v)
		return true
	})
	for k := range 500 {
		if !seen[k] { // present from the start until f deleted it
			t.Fatalf("Range missed key %d while writing", k)
		}
	}
	check(t, m)
}

// TestRangeUnderDeleteReinsert: while writers delete and re-insert the same
// keys, no iteration visits a key twice, and keys never touched are always
// visited.
func TestRangeUnderDeleteReinsert(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(4))
	const stable, churn = 200, 200
	for k := range stable + churn {
		m.Store(k, k)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for !stop.Load() {
				k := stable + rng.IntN(churn)
				m.Delete(k)
				m.Store(k, k)
			}
		})
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	iterations := 0
	for time.Now().Before(deadline) || iterations < 20 {
		iterations++
		seen := make(map[int]bool, stable+churn)
		for k := range m.Keys() {
			if seen[k] {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("iteration %d visited key %d twice", iterations, k)
			}
			seen[k] = true
		}
		for k := range stable {
			if !seen[k] {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("iteration %d missed stable key %d", iterations, k)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	check(t, m)
}

func TestRangeNestedCall(t *testing.T) {
	var m cmap.Map[any, any]
	for i, v := range [3]string{"hello", "world", "Go"} {
		m.Store(i, v)
	}
	m.Range(func(key, value any) bool {
		m.Range(func(key, value any) bool {
			if v, ok := m.Load(key); !ok || v != value {
				t.Fatalf("nested Range: Load(%v) = %v, %v; want %v", key, v, ok, value)
			}
			if _, loaded := m.LoadOrStore(42, "dummy"); loaded {
				t.Fatal("nested Range: key 42 present before it was stored")
			}
			m.Store(42, "x")
			if v, loaded := m.LoadAndDelete(42); !loaded || v != "x" {
				t.Fatalf("nested Range: LoadAndDelete(42) = %v, %v", v, loaded)
			}
			return true
		})
		m.Delete(key)
		return true
	})
	n := 0
	m.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d keys left after deleting them all in Range", n)
	}
	check(t, &m)
}

func TestRangeNoAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	var zero cmap.Map[any, any]
	full := cmap.New[int, int]()
	for i := range 100 {
		full.Store(i, i)
	}
	for name, f := range map[string]func(){
		"zero Map": func() { zero.Range(func(any, any) bool { return true }) },
		"100 keys": func() { full.Range(func(int, int) bool { return true }) },
		"All": func() {
			for range full.All() {
			}
		},
	} {
		if a := testing.AllocsPerRun(10, f); a > 0 {
			t.Errorf("%s: Range allocates %v times, want 0", name, a)
		}
	}
}
