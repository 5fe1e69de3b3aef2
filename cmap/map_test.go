package cmap_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/segmap/segmap/cmap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMethods(t *testing.T) {
	forEachHasher(t, func(t *testing.T, newMap func(...cmap.Option) *cmap.Map[uint64, uint64]) {
		m := newMap()
		steps := []struct {
			name string
			do   func() any
			want any
		}{
			{"Load absent", func() any { return pair(m.Load(1)) }, pair(uint64(0), false)},
			{"LoadOrStore stores", func() any { return pair(m.LoadOrStore(1, 10)) }, pair(uint64(10), false)},
			{"LoadOrStore loads", func() any { return pair(m.LoadOrStore(1, 11)) }, pair(uint64(10), true)},
			{"Load present", func() any { return pair(m.Load(1)) }, pair(uint64(10), true)},
			{"Swap present", func() any { return pair(m.Swap(1, 12)) }, pair(uint64(10), true)},
			{"Swap absent", func() any { return pair(m.Swap(2, 20)) }, pair(uint64(0), false)},
			{"CompareAndSwap wrong old", func() any { return m.CompareAndSwap(1, 10, 13) }, false},
			{"CompareAndSwap", func() any { return m.CompareAndSwap(1, 12, 13) }, true},
			{"CompareAndSwap absent", func() any { return m.CompareAndSwap(3, 0, 1) }, false},
			{"Load swapped", func() any { return pair(m.Load(1)) }, pair(uint64(13), true)},
			{"Len", func() any { return m.Len() }, 2},
			{"CompareAndDelete wrong old", func() any { return m.CompareAndDelete(1, 12) }, false},
			{"CompareAndDelete absent zero", func() any { return m.CompareAndDelete(3, 0) }, false},
			{"CompareAndDelete", func() any { return m.CompareAndDelete(1, 13) }, true},
			{"Load deleted", func() any { return pair(m.Load(1)) }, pair(uint64(0), false)},
			{"LoadAndDelete present", func() any { return pair(m.LoadAndDelete(2)) }, pair(uint64(20), true)},
			{"LoadAndDelete absent", func() any { return pair(m.LoadAndDelete(2)) }, pair(uint64(0), false)},
			{"Len empty", func() any { return m.Len() }, 0},
			{"Store", func() any { m.Store(5, 50); return pair(m.Load(5)) }, pair(uint64(50), true)},
			{"Store overwrite", func() any { m.Store(5, 51); return pair(m.Load(5)) }, pair(uint64(51), true)},
			{"Delete", func() any { m.Delete(5); return pair(m.Load(5)) }, pair(uint64(0), false)},
			{"Delete absent", func() any { m.Delete(5); return m.Len() }, 0},
		}
		for _, s := range steps {
			if got := s.do(); got != s.want {
				t.Fatalf("%s: got %v, want %v", s.name, got, s.want)
			}
			check(t, m)
		}
	})
}

type pr struct {
	v  uint64
	ok bool
}

func pair(v uint64, ok bool) pr { return pr{v, ok} }

// TestModel runs long random operation sequences against the built-in map
// under every hasher, across growth and shrink, checking invariants
// periodically.
func TestModel(t *testing.T) {
	forEachHasher(t, func(t *testing.T, newMap func(...cmap.Option) *cmap.Map[uint64, uint64]) {
		seed := rand.Uint64()
		r := rand.New(rand.NewPCG(seed, 1))
		n := 20000
		keySpace := uint64(3000)
		if testing.Short() {
			n = 5000
		}
		m := newMap(cmap.WithSegments(4))
		model := map[uint64]uint64{}
		for i := range n {
			k := r.Uint64N(keySpace)
			// Phases: grow, churn, shrink.
			phase := i * 3 / n
			op := r.IntN(10)
			if phase == 2 && op < 6 {
				op = 8 // mostly deletes
			} else if phase == 0 && op >= 7 {
				op = 0
			}
			v := r.Uint64()
			switch op {
			case 0, 1, 2:
				m.Store(k, v)
				model[k] = v
			case 3:
				act, loaded := m.LoadOrStore(k, v)
				if mv, ok := model[k]; ok != loaded || (ok && act != mv) || (!ok && act != v) {
					t.Fatalf("seed %d step %d: LoadOrStore(%d) = %d, %v; model %d, %v", seed, i, k, act, loaded, mv, ok)
				}
				if !loaded {
					model[k] = v
				}
			case 4:
				prev, loaded := m.Swap(k, v)
				if mv, ok := model[k]; ok != loaded || prev != mv {
					t.Fatalf("seed %d step %d: Swap(%d) = %d, %v; model %d, %v", seed, i, k, prev, loaded, mv, ok)
				}
				model[k] = v
			case 5:
				mv, ok := model[k]
				old := mv
				if r.IntN(2) == 0 {
					old++
				}
				swapped := m.CompareAndSwap(k, old, v)
				if want := ok && old == mv; swapped != want {
					t.Fatalf("seed %d step %d: CompareAndSwap(%d) = %v, want %v", seed, i, k, swapped, want)
				}
				if swapped {
					model[k] = v
				}
			case 6:
				got, ok := m.Load(k)
				if mv, mok := model[k]; ok != mok || got != mv {
					t.Fatalf("seed %d step %d: Load(%d) = %d, %v; model %d, %v", seed, i, k, got, ok, mv, mok)
				}
			case 7:
				m.Delete(k)
				delete(model, k)
			case 8:
				prev, loaded := m.LoadAndDelete(k)
				if mv, ok := model[k]; ok != loaded || prev != mv {
					t.Fatalf("seed %d step %d: LoadAndDelete(%d) = %d, %v; model %d, %v", seed, i, k, prev, loaded, mv, ok)
				}
				delete(model, k)
			case 9:
				mv, ok := model[k]
				if m.CompareAndDelete(k, mv) != ok {
					t.Fatalf("seed %d step %d: CompareAndDelete(%d) disagrees with model", seed, i, k)
				}
				delete(model, k)
			}
			if m.Len() != len(model) {
				t.Fatalf("seed %d step %d: Len = %d, model %d", seed, i, m.Len(), len(model))
			}
			if i%997 == 0 {
				check(t, m)
			}
		}
		check(t, m)
		if got := contents(m); !maps.Equal(got, model) {
			t.Fatalf("seed %d: contents differ from model: %d vs %d entries", seed, len(got), len(model))
		}
		if st := m.Stats(); st.Resizes == 0 {
			t.Fatalf("seed %d: no table was rebuilt; the test did not reach growth", seed)
		}
	})
}

func TestGrowAndShrink(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(2))
	const n = 100000
	for i := range n {
		m.Store(i, i)
	}
	check(t, m)
	big := m.Stats()
	if big.Len != n || big.LoadFactor > 0.7 || big.Resizes == 0 {
		t.Fatalf("after %d stores: %+v", n, big)
	}
	for i := range n - 100 {
		m.Delete(i)
	}
	check(t, m)
	small := m.Stats()
	if small.Len != 100 {
		t.Fatalf("Len = %d after deleting all but 100", small.Len)
	}
	if small.Capacity*8 > big.Capacity {
		t.Fatalf("capacity %d after deletes, was %d: memory not given back", small.Capacity, big.Capacity)
	}
	for i := n - 100; i < n; i++ {
		if v, ok := m.Load(i); !ok || v != i {
			t.Fatalf("Load(%d) = %d, %v after shrink", i, v, ok)
		}
	}
}

func TestTombstoneCleanup(t *testing.T) {
	// Insert and delete ever-new keys with a live set of 10: without
	// cleanup rebuilds, tombstones would fill the table.
	m := cmap.New[int, int](cmap.WithSegments(1))
	for i := range 100000 {
		m.Store(i, i)
		if i >= 10 {
			m.Delete(i - 10)
		}
	}
	check(t, m)
	st := m.Stats()
	if st.Len != 10 || st.Capacity > 64 {
		t.Fatalf("after churn: %+v, want Len 10 in a small table", st)
	}
}

func TestReserve(t *testing.T) {
	for _, n := range []int{0, 1, 10, 1000, 100000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			m := cmap.New[int, int]()
			m.Reserve(n)
			before := m.Stats().Resizes
			for i := range n {
				m.Store(i, i)
			}
			if got := m.Stats().Resizes; got != before {
				t.Fatalf("Reserve(%d) then %d stores: %d rebuilds", n, n, got-before)
			}
			c := cmap.New[int, int](cmap.WithCapacity(n))
			for i := range n {
				c.Store(i, i)
			}
			if got := c.Stats().Resizes; got != 0 {
				t.Fatalf("WithCapacity(%d) then %d stores: %d rebuilds", n, n, got)
			}
			check(t, m)
		})
	}
	// The floor stops shrinking; Reserve(0) lifts it.
	m := cmap.New[int, int](cmap.WithSegments(1), cmap.WithCapacity(10000))
	capBefore := m.Stats().Capacity
	for i := range 1000 {
		m.Store(i, i)
	}
	for i := range 1000 {
		m.Delete(i)
	}
	if c := m.Stats().Capacity; c != capBefore {
		t.Fatalf("capacity %d below the reserved %d", c, capBefore)
	}
	m.Reserve(0)
	m.Store(1, 1)
	m.Delete(1)
	if c := m.Stats().Capacity; c >= capBefore {
		t.Fatalf("capacity %d did not shrink after Reserve(0)", c)
	}
}

// TestReserveRacesClear: Reserve looks at each segment's table before it
// takes the segment's lock, while Clear, holding every lock, gives each
// segment a new table in a new readers' array. The look must go through
// that array, atomically, as a reader's does: a read of the segment's
// own pointer to its slot, which Clear rewrites, is a data race, which
// the race detector (go test -race, as CI runs it) reports here. Once
// both are done, every table has at least the reserved size (Clear
// makes tables of the floor that Reserve set), in each layout.
func TestReserveRacesClear(t *testing.T) {
	run := func(t *testing.T, clear func(), reserve func(), groups func() []int) {
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 500 {
				clear()
			}
		})
		wg.Go(func() {
			for range 500 {
				reserve()
			}
		})
		wg.Wait()
		for i, g := range groups() {
			if g*7 < 1000 {
				t.Fatalf("segment %d: %d groups after Reserve(1000) and Clear", i, g)
			}
		}
	}
	t.Run("flat", func(t *testing.T) {
		m := cmap.New[uint64, uint64](cmap.WithSegments(1))
		run(t, m.Clear, func() { m.Reserve(1000) }, m.TableGroups)
	})
	t.Run("arena", func(t *testing.T) {
		m := cmap.New[string, uint64](cmap.WithSegments(1))
		run(t, m.Clear, func() { m.Reserve(1000) }, m.TableGroups)
	})
	t.Run("entries", func(t *testing.T) {
		m := cmap.New[string, *int](cmap.WithSegments(1))
		run(t, m.Clear, func() { m.Reserve(1000) }, m.TableGroups)
	})
}

func TestStringKeysDeterministicLayout(t *testing.T) {
	build := func() []string {
		m := cmap.New[string, int](cmap.WithHasher(cmap.StringXXHash), cmap.WithSeed(7), cmap.WithSegments(8))
		for i := range 1000 {
			m.Store(fmt.Sprintf("key-%d", i), i)
		}
		return slices.Collect(m.Keys())
	}
	a, b := build(), build()
	if !slices.Equal(a, b) {
		t.Fatal("StringXXHash with a fixed seed gave two iteration orders")
	}
	if StringHash := cmap.StringXXHash(1, "x"); StringHash == cmap.StringXXHash(2, "x") {
		t.Fatal("StringXXHash ignores its seed")
	}
}

func TestStats(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(4))
	for i := range 1000 {
		m.Store(i, i)
	}
	for i := range 100 {
		m.Delete(i)
	}
	st := m.Stats()
	if st.Segments != 4 || st.Len != 900 || st.Capacity < 900 || st.MaxProbe < 1 {
		t.Fatalf("Stats = %+v", st)
	}
	if lf := float64(st.Len+st.Tombstones) / float64(st.Capacity); lf != st.LoadFactor {
		t.Fatalf("LoadFactor %v, want %v", st.LoadFactor, lf)
	}
	bad := cmap.New[int, int](cmap.WithHasher(constantHash[int](1)), cmap.WithSegments(4))
	for i := range 200 {
		bad.Store(i, i)
	}
	if st := bad.Stats(); st.MaxProbe < 200/7 {
		t.Fatalf("constant hasher: MaxProbe = %d, want >= %d", st.MaxProbe, 200/7)
	}
}

func TestSegmentsOption(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{1, 1}, {3, 4}, {16, 16}, {17, 32}, {65536, 65536}} {
		if got := cmap.New[int, int](cmap.WithSegments(tt.in)).Stats().Segments; got != tt.want {
			t.Errorf("WithSegments(%d): %d segments, want %d", tt.in, got, tt.want)
		}
	}
	if got := cmap.New[int, int]().Stats().Segments; got < 16 || got&(got-1) != 0 {
		t.Errorf("default: %d segments", got)
	}
}

func TestSegmentLayout(t *testing.T) {
	if strconv.IntSize != 64 {
		t.Skip("64-bit layout")
	}
	// A slot of the readers' array is 128-byte parts, each alone in an
	// adjacent-line prefetch pair: the table pointer, the count, and each
	// of the count stripes; a segment is the writers' 128 bytes, the
	// fields of the options (log, fixed) included.
	if want := 256 + 128*cmap.CountStripes; cmap.SlotSize != uintptr(want) {
		t.Fatalf("slot is %d bytes, want %d", cmap.SlotSize, want)
	}
	if cmap.SegmentSize != 128 {
		t.Fatalf("segment is %d bytes, want 128", cmap.SegmentSize)
	}
}

func TestCompareAndSwapNonExistingKey(t *testing.T) {
	m := new(cmap.Map[any, any])
	if m.CompareAndSwap(m, nil, 42) {
		t.Fatal("CompareAndSwap on a non-existing key succeeded")
	}
}
