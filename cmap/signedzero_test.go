package cmap_test

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// Keys that equal each other with other bits: -0 and +0 in a float field.
type (
	zeroPair struct { // on 386, b lies across two words of a flat slot
		a int32
		b float64
	}
	zeroWide [4]float64 // four words
)

var negZero = math.Copysign(0, -1)

// keyWrite is a write of key b (equal to the key a already stored with
// value v1) with value v2, and whether the built-in map assigns in its
// counterpart (m[b] = v2), which gives the map b's bits.
type keyWrite[K comparable, V comparable] struct {
	name   string
	assign bool
	do     func(m *cmap.Map[K, V], b K, v1, v2 V)
}

func keyWrites[K comparable, V comparable]() []keyWrite[K, V] {
	return []keyWrite[K, V]{
		{"Store", true, func(m *cmap.Map[K, V], b K, _, v2 V) { m.Store(b, v2) }},
		{"Swap", true, func(m *cmap.Map[K, V], b K, _, v2 V) { m.Swap(b, v2) }},
		{"TryStore", true, func(m *cmap.Map[K, V], b K, _, v2 V) { _ = m.TryStore(b, v2) }},
		{"CompareAndSwap", true, func(m *cmap.Map[K, V], b K, v1, v2 V) {
			if !m.CompareAndSwap(b, v1, v2) {
				panic("CompareAndSwap failed")
			}
		}},
		{"Compute/UpdateOp", true, func(m *cmap.Map[K, V], b K, _, v2 V) {
			m.Compute(b, func(V, bool) (V, cmap.ComputeOp) { return v2, cmap.UpdateOp })
		}},
		{"CompareAndSwap/failed", false, func(m *cmap.Map[K, V], b K, v1, v2 V) {
			if v1 == v2 { // V has one value: no compare fails
				return
			}
			if m.CompareAndSwap(b, v2, v2) {
				panic("CompareAndSwap succeeded")
			}
		}},
		{"Compute/CancelOp", false, func(m *cmap.Map[K, V], b K, _, v2 V) {
			m.Compute(b, func(V, bool) (V, cmap.ComputeOp) { return v2, cmap.CancelOp })
		}},
		{"LoadOrStore", false, func(m *cmap.Map[K, V], b K, _, v2 V) { m.LoadOrStore(b, v2) }},
		{"LoadOrCompute", false, func(m *cmap.Map[K, V], b K, _, v2 V) { m.LoadOrCompute(b, func() V { return v2 }) }},
	}
}

// equalKeysCase checks, for neg and pos (equal keys with other bits) in
// either order, every write of keyWrites on the flat layout, the entry
// layout and an insertion-order map, small and grown (a rebuild moves the
// key, a snapshot makes the write copy the table): the map keeps the bits
// that the built-in map keeps, shown by %v (which prints -0).
func equalKeysCase[K comparable, V comparable](t *testing.T, neg, pos K, v1, v2 V, spread func(i int) K) {
	t.Helper()
	if neg != pos || fmt.Sprint(neg) == fmt.Sprint(pos) {
		t.Fatalf("%v and %v: not equal keys with different bits", neg, pos)
	}
	for _, layout := range []struct {
		name, want string
		entry      bool
		opts       []cmap.Option
	}{
		{"flat", "flat", false, nil},
		{"entries", "entries", true, nil},
		{"insertion-order", "entries", false, []cmap.Option{cmap.WithInsertionOrder()}},
	} {
		for _, w := range keyWrites[K, V]() {
			for _, grown := range []bool{false, true} {
				for _, ab := range [][2]K{{neg, pos}, {pos, neg}} {
					a, b := ab[0], ab[1]
					cmap.ForceEntryLayout(layout.entry)
					m := cmap.New[K, V](append([]cmap.Option{cmap.WithSegments(2)}, layout.opts...)...)
					cmap.ForceEntryLayout(false)
					if got := m.Stats().Layout; got != layout.want {
						t.Fatalf("%s: layout %q", layout.name, got)
					}
					model := map[K]V{}
					m.Store(a, v1)
					model[a] = v1
					if grown {
						for i := range 200 {
							m.Store(spread(i), v1)
							model[spread(i)] = v1
						}
						_ = m.Snapshot() // the next write copies the table
					}
					w.do(m, b, v1, v2)
					if w.assign {
						model[b] = v2
					}
					keys := func(seq func(func(K) bool)) []string {
						var out []string
						for k := range seq {
							out = append(out, fmt.Sprint(k))
						}
						slices.Sort(out)
						return out
					}
					got := keys(m.Keys())
					want := keys(func(yield func(K) bool) {
						for k := range model {
							if !yield(k) {
								return
							}
						}
					})
					if !slices.Equal(got, want) {
						t.Fatalf("%s, %s of %v over %v (grown %v): keys %v, the built-in map's %v",
							layout.name, w.name, b, a, grown, got, want)
					}
					if v, _ := m.Load(a); v != model[a] {
						t.Fatalf("%s, %s: value %v, the built-in map's %v", layout.name, w.name, v, model[a])
					}
					check(t, m)
				}
			}
		}
	}
}

// TestEqualKeysTakeTheWrittenBits: a write that assigns a value to a key
// present under an equal key with other bits (+0 over -0) gives the map
// the written key's bits, as the built-in map's assignment does (Store,
// Swap, TryStore, a successful CompareAndSwap, Compute's UpdateOp); one
// that assigns nothing keeps the stored key (LoadOrStore and LoadOrCompute
// of a present key, a failed CompareAndSwap, Compute's CancelOp). Checked
// for float, complex, array and struct keys, with values of one word
// (overwritten in place in a flat table), three words (moved within the
// group) and none, on both layouts.
func TestEqualKeysTakeTheWrittenBits(t *testing.T) {
	t.Run("float64→int", func(t *testing.T) {
		equalKeysCase(t, negZero, 0.0, 1, 2, func(i int) float64 { return float64(i + 1) })
	})
	t.Run("float32→[3]uint64", func(t *testing.T) {
		equalKeysCase(t, float32(negZero), float32(0), [3]uint64{1}, [3]uint64{2, 3, 4}, func(i int) float32 { return float32(i + 1) })
	})
	t.Run("complex128→struct{}", func(t *testing.T) {
		equalKeysCase(t, complex(0, negZero), complex(0, 0), struct{}{}, struct{}{}, func(i int) complex128 { return complex(float64(i+1), 0) })
	})
	t.Run("zeroPair→int8", func(t *testing.T) {
		equalKeysCase(t, zeroPair{7, negZero}, zeroPair{7, 0}, int8(1), int8(2), func(i int) zeroPair { return zeroPair{int32(i), 1} })
	})
	t.Run("zeroWide→[4]uint64", func(t *testing.T) {
		equalKeysCase(t, zeroWide{0, 1, negZero, negZero}, zeroWide{negZero, 1, 0, negZero}, [4]uint64{1}, [4]uint64{2},
			func(i int) zeroWide { return zeroWide{float64(i + 1)} })
	})
}

// TestEqualKeysJSON: the bits kept show in JSON. After Store(-0, 1) and
// Store(+0, 2) a map with a text-marshalled float key encodes {"0":2}, as
// the built-in map does, on both layouts.
func TestEqualKeysJSON(t *testing.T) {
	for _, entry := range []bool{false, true} {
		cmap.ForceEntryLayout(entry)
		m := cmap.New[textFloat, int]()
		cmap.ForceEntryLayout(false)
		plain := map[textFloat]int{}
		m.Store(textFloat(negZero), 1)
		plain[textFloat(negZero)] = 1
		m.Store(0, 2)
		plain[0] = 2
		got, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(plain)
		if string(got) != string(want) || string(want) != `{"0":2}` {
			t.Fatalf("entry layout %v: %s, the built-in map %s", entry, got, want)
		}
	}
}

// TestEqualKeysFlipUnderReaders: while a writer flips a key between -0
// and +0 with every store (rewriting the key's words in place, or moving
// it within its group), readers always find it, under either form, with
// a value it held: no reader ever misses a key that is never deleted.
// Readers meet the writer between two of its word stores only by chance,
// a window too small to catch a writer that briefly stores junk key
// words; internal/table's TestFlatReplaceKeyBitsUnderReaders runs a
// reader at each of those instants and catches it.
func TestEqualKeysFlipUnderReaders(t *testing.T) {
	t.Run("zeroPair→uint64", func(t *testing.T) {
		flipUnderReaders(t, zeroPair{1, negZero}, zeroPair{1, 0}, func(n uint64) uint64 { return n }, func(v uint64) uint64 { return v })
	})
	t.Run("zeroWide→[3]uint64", func(t *testing.T) {
		flipUnderReaders(t, zeroWide{negZero, 0, 0, negZero}, zeroWide{0, negZero, 0, 0},
			func(n uint64) [3]uint64 { return [3]uint64{n, ^n, n * 3} },
			func(v [3]uint64) uint64 {
				if v[1] != ^v[0] || v[2] != v[0]*3 {
					return math.MaxUint64
				}
				return v[0]
			})
	})
}

func flipUnderReaders[K comparable, V any](t *testing.T, neg, pos K, val func(uint64) V, num func(V) uint64) {
	m := cmap.New[K, V](cmap.WithSegments(1))
	if m.Stats().Layout != "flat" {
		t.Fatal("not flat")
	}
	m.Store(neg, val(0))
	const rounds = 20000
	var done atomic.Bool
	var ran atomic.Int64
	readers := max(2, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !done.Load(); n++ {
				k := neg
				if (n+r)%2 == 0 {
					k = pos
				}
				v, ok := m.Load(k)
				if !ok {
					t.Errorf("key %v not found", k)
					done.Store(true)
				} else if x := num(v); x > rounds {
					t.Errorf("key %v: value %v, never stored", k, v)
					done.Store(true)
				}
				if n == 0 {
					ran.Add(1)
				}
			}
		}()
	}
	for i := uint64(1); (i <= rounds || ran.Load() < int64(readers)) && !done.Load(); i++ {
		k := neg
		if i%2 == 1 {
			k = pos
		}
		m.Store(k, val(min(i, rounds)))
		if i > rounds {
			runtime.Gosched()
		}
	}
	done.Store(true)
	wg.Wait()
	check(t, m)
}
