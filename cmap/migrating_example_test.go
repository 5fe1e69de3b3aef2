package cmap_test

// The rows of docs/migrating.md, each run: where a call means something
// different in the peer, the example runs the peer's call beside cmap's
// and prints both, so the difference the guide states is checked here.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/segmap/segmap/cmap"
)

// xsync: NewMap[K, V](opts...). cmap: New[K, V](opts...), or the zero Map.
func ExampleNew_xsyncNewMap() {
	x := xsync.NewMap[string, int]()
	x.Store("a", 1)

	c := cmap.New[string, int]()
	c.Store("a", 1)
	var z cmap.Map[string, int] // the zero Map is ready too, as sync.Map's
	z.Store("a", 1)

	xv, _ := x.Load("a")
	cv, _ := c.Load("a")
	zv, _ := z.Load("a")
	fmt.Println(xv, cv, zv)
	// Output: 1 1 1
}

// xsync: Size. cmap: Len.
func ExampleMap_Len_xsyncSize() {
	x := xsync.NewMap[int, int]()
	c := cmap.New[int, int]()
	for i := range 5 {
		x.Store(i, i)
		c.Store(i, i)
	}
	fmt.Println(x.Size(), c.Len())
	// Output: 5 5
}

// xsync: LoadAndStore returns the new value when the key was absent.
// cmap: Swap returns the zero value then, as sync.Map's Swap.
func ExampleMap_Swap_xsyncLoadAndStore() {
	x := xsync.NewMap[string, int]()
	c := cmap.New[string, int]()

	xv, xloaded := x.LoadAndStore("k", 7)
	cv, cloaded := c.Swap("k", 7)
	fmt.Println("absent: xsync", xv, xloaded, "cmap", cv, cloaded)

	xv, xloaded = x.LoadAndStore("k", 8)
	cv, cloaded = c.Swap("k", 8)
	fmt.Println("present: xsync", xv, xloaded, "cmap", cv, cloaded)
	// Output:
	// absent: xsync 7 false cmap 0 false
	// present: xsync 7 true cmap 7 true
}

// errNoValue cancels a LoadOrTryCompute, as returning cancel == true
// cancels xsync's LoadOrCompute.
var errNoValue = errors.New("no value")

// xsync: LoadOrCompute(key, func() (V, bool)), whose true cancels. cmap:
// LoadOrCompute(key, func() V) cannot cancel; LoadOrTryCompute(key,
// func() (V, error)) does, with an error that it returns.
func ExampleMap_LoadOrTryCompute_xsyncLoadOrComputeCancel() {
	x := xsync.NewMap[string, int]()
	c := cmap.New[string, int]()

	xv, xloaded := x.LoadOrCompute("k", func() (int, bool) { return 0, true })
	cv, cloaded, err := c.LoadOrTryCompute("k", func() (int, error) { return 0, errNoValue })
	_, xok := x.Load("k")
	_, cok := c.Load("k")
	fmt.Println("cancelled: xsync", xv, xloaded, xok, "cmap", cv, cloaded, cok, err)

	xv, xloaded = x.LoadOrCompute("k", func() (int, bool) { return 42, false })
	cv, cloaded, err = c.LoadOrTryCompute("k", func() (int, error) { return 42, nil })
	fmt.Println("computed: xsync", xv, xloaded, "cmap", cv, cloaded, err)

	cv, cloaded = c.LoadOrCompute("k", func() int { return 99 }) // present: f is not called
	fmt.Println("cmap LoadOrCompute:", cv, cloaded)
	// Output:
	// cancelled: xsync 0 false false cmap 0 false false no value
	// computed: xsync 42 false cmap 42 false <nil>
	// cmap LoadOrCompute: 42 true
}

// xsync: Compute(key, func(old V, loaded bool) (V, ComputeOp)). cmap: the
// same signature, the same ComputeOp numbering (CancelOp is 0) and the
// same results.
func ExampleMap_Compute_xsyncCompute() {
	x := xsync.NewMap[string, int]()
	c := cmap.New[string, int]()
	xv, xok := x.Compute("hits", func(n int, _ bool) (int, xsync.ComputeOp) { return n + 1, xsync.UpdateOp })
	cv, cok := c.Compute("hits", func(n int, _ bool) (int, cmap.ComputeOp) { return n + 1, cmap.UpdateOp })
	fmt.Println(xv, xok, cv, cok, int(xsync.DeleteOp) == int(cmap.DeleteOp))
	// Output: 1 true 1 true true
}

// xsync: WithPresize(n), a floor the table never shrinks below; a
// negative n is ignored. cmap: WithCapacity(n), the same floor
// (Map.Reserve(n) sets it later); a negative n panics.
func ExampleWithCapacity_xsyncWithPresize() {
	x := xsync.NewMap[int, int](xsync.WithPresize(10_000))
	c := cmap.New[int, int](cmap.WithCapacity(10_000))
	before := c.Stats().Resizes
	for i := range 10_000 {
		x.Store(i, i)
		c.Store(i, i)
	}
	fmt.Println(x.Size(), c.Len(), "cmap tables rebuilt:", c.Stats().Resizes-before)
	// Output: 10000 10000 cmap tables rebuilt: 0
}

// xsync: ToPlainMap(m). cmap: maps.Collect(m.All()), with Range's
// consistency (as ToPlainMap's), or maps.Collect(m.Snapshot().All()), the
// map at one instant.
func ExampleMap_All_xsyncToPlainMap() {
	x := xsync.NewMap[string, int]()
	c := cmap.New[string, int]()
	for i, k := range []string{"a", "b", "c"} {
		x.Store(k, i)
		c.Store(k, i)
	}
	xp := xsync.ToPlainMap(x)
	cp := maps.Collect(c.All())
	sp := maps.Collect(c.Snapshot().All())
	fmt.Println(maps.Equal(xp, cp), maps.Equal(cp, sp), cp)
	// Output: true true map[a:0 b:1 c:2]
}

// xsync: DeleteMatching(func(k, v) (delete, stop bool)) int. cmap:
// DeleteFunc(func(k, v) bool) int, with no stop: return false for the
// rest instead (they are still visited).
func ExampleMap_DeleteFunc_xsyncDeleteMatching() {
	x := xsync.NewMap[int, int]()
	c := cmap.New[int, int]()
	for i := range 10 {
		x.Store(i, i)
		c.Store(i, i)
	}
	xn := x.DeleteMatching(func(_, v int) (bool, bool) { return v%2 == 0, false })
	cn := c.DeleteFunc(func(_, v int) bool { return v%2 == 0 })
	fmt.Println(xn, cn, x.Size(), c.Len())
	// Output: 5 5 5 5
}

// xsync: RangeRelaxed and AllRelaxed, faster and weaker (a key may be
// visited twice). cmap has no relaxed iteration: Range and All make
// sync.Map's promise (no key twice), and a Snapshot iterates the map as it
// was at one instant.
func ExampleMap_Range_xsyncRangeRelaxed() {
	x := xsync.NewMap[int, string]()
	c := cmap.New[int, string]()
	for i := range 3 {
		x.Store(i, "v")
		c.Store(i, "v")
	}
	var xk, ck, sk []int
	for k := range x.AllRelaxed() {
		xk = append(xk, k)
	}
	for k := range c.All() {
		ck = append(ck, k)
	}
	for k := range c.Snapshot().Keys() {
		sk = append(sk, k)
	}
	slices.Sort(xk)
	slices.Sort(ck)
	slices.Sort(sk)
	fmt.Println(xk, ck, sk)
	// Output: [0 1 2] [0 1 2] [0 1 2]
}

// xsync: WithGrowOnly, tables that never shrink. cmap has no such
// option: a segment's table shrinks when deletes leave it sparse, down to
// the floor that WithCapacity or Reserve set, so a floor as large as the
// map will grow is the nearest equivalent.
func ExampleWithCapacity_xsyncWithGrowOnly() {
	shrinks := cmap.New[int, int](cmap.WithSegments(1))
	floor := cmap.New[int, int](cmap.WithSegments(1), cmap.WithCapacity(10_000))
	for _, m := range []*cmap.Map[int, int]{shrinks, floor} {
		for i := range 10_000 {
			m.Store(i, i)
		}
		full := m.Stats().Capacity
		for i := range 10_000 {
			m.Delete(i)
		}
		fmt.Println(m.Stats().Capacity < full)
	}
	// Output:
	// true
	// false
}

// xsync: Clear, which a concurrent resize can make clear nothing
// (docs/guarantees.md, Clear). cmap: Clear, atomic for the whole map.
func ExampleMap_Clear_xsyncClear() {
	c := cmap.New[string, int]()
	c.Store("a", 1)
	c.Clear()
	fmt.Println(c.Len())
	// Output: 0
}

// sync.Map: untyped, so every Load needs a type assertion, and a missing
// key gives nil. cmap: typed; a missing key gives the zero value.
func ExampleMap_Load_syncMap() {
	var s sync.Map
	var c cmap.Map[string, int]
	s.Store("a", 1)
	c.Store("a", 1)

	sv, _ := s.Load("a")
	cv, _ := c.Load("a")
	sm, _ := s.Load("missing")
	cm, _ := c.Load("missing")
	fmt.Println(sv.(int)+1, cv+1, sm, cm)
	// Output: 2 2 <nil> 0
}

// sync.Map: no length; count with Range. cmap: Len.
func ExampleMap_Len_syncMap() {
	var s sync.Map
	var c cmap.Map[int, bool]
	for i := range 4 {
		s.Store(i, true)
		c.Store(i, true)
	}
	n := 0
	s.Range(func(_, _ any) bool { n++; return true })
	fmt.Println(n, c.Len())
	// Output: 4 4
}

// sync.Map: a read-modify-write is a CompareAndSwap loop. cmap: Compute,
// one call that runs f once with no other write to the key in between (a
// CompareAndSwap loop works as well).
func ExampleMap_Compute_syncMapCompareAndSwapLoop() {
	var s sync.Map
	var c cmap.Map[string, int]
	for range 3 {
		for {
			old, loaded := s.LoadOrStore("hits", 1)
			if !loaded || s.CompareAndSwap("hits", old, old.(int)+1) {
				break
			}
		}
		c.Compute("hits", func(n int, _ bool) (int, cmap.ComputeOp) { return n + 1, cmap.UpdateOp })
	}
	sv, _ := s.Load("hits")
	cv, _ := c.Load("hits")
	fmt.Println(sv, cv)
	// Output: 3 3
}

// sync.Map: delete by predicate with Range and CompareAndDelete. cmap:
// DeleteFunc, which also counts what it deleted.
func ExampleMap_DeleteFunc_syncMap() {
	var s sync.Map
	var c cmap.Map[int, int]
	for i := range 6 {
		s.Store(i, i)
		c.Store(i, i)
	}
	s.Range(func(k, v any) bool {
		if v.(int) < 3 {
			s.CompareAndDelete(k, v)
		}
		return true
	})
	n := c.DeleteFunc(func(_, v int) bool { return v < 3 })
	left := 0
	s.Range(func(_, _ any) bool { left++; return true })
	fmt.Println(left, n, c.Len())
	// Output: 3 3 3
}

// sync.Map: CompareAndSwap and CompareAndDelete panic at run time when
// the values are incomparable. cmap: they panic whenever V is not a
// comparable type, even before comparing.
func ExampleMap_CompareAndSwap_syncMap() {
	var c cmap.Map[string, []int]
	c.Store("a", []int{1})
	defer func() { fmt.Println(recover()) }()
	c.CompareAndSwap("a", nil, []int{2})
	// Output: cmap: CompareAndSwap: value type []int is not comparable
}

// sync.Map: Range. cmap: Range, All, Keys and Values, with the same
// promise; a Snapshot for the map at one instant.
func ExampleMap_All_syncMapRange() {
	var s sync.Map
	var c cmap.Map[string, int]
	s.Store("a", 1)
	c.Store("a", 1)
	s.Range(func(k, v any) bool { fmt.Println("sync.Map", k, v); return true })
	for k, v := range c.All() {
		fmt.Println("cmap", k, v)
	}
	// Output:
	// sync.Map a 1
	// cmap a 1
}
