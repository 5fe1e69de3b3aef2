package cmap_test

import (
	"fmt"
	"slices"
	"strings"

	"github.com/segmap/segmap/cmap"
)

func Example() {
	m := cmap.New[string, int]()
	m.Store("apples", 3)
	m.Store("pears", 5)
	if n, ok := m.Load("apples"); ok {
		fmt.Println("apples:", n)
	}
	fmt.Println("len:", m.Len())
	// Output:
	// apples: 3
	// len: 2
}

func ExampleMap_zeroValue() {
	var m cmap.Map[int, string] // ready to use, like sync.Map
	m.Store(1, "one")
	v, _ := m.Load(1)
	fmt.Println(v)
	// Output: one
}

func ExampleNew() {
	m := cmap.New[string, []byte](cmap.WithCapacity(10_000), cmap.WithSegments(64))
	fmt.Println(m.Stats().Segments)
	// Output: 64
}

func ExampleWithHasher() {
	// A deterministic hasher and seed: the same layout, and so the same
	// iteration order, in every run.
	m := cmap.New[string, int](cmap.WithHasher(cmap.StringXXHash), cmap.WithSeed(2024))
	for i := range 3 {
		m.Store(fmt.Sprint("k", i), i)
	}
	fmt.Println(m.Len())
	// Output: 3
}

func ExampleMap_Load() {
	m := cmap.New[string, int]()
	m.Store("a", 1)
	v, ok := m.Load("a")
	fmt.Println(v, ok)
	v, ok = m.Load("b")
	fmt.Println(v, ok)
	// Output:
	// 1 true
	// 0 false
}

func ExampleMap_Store() {
	m := cmap.New[string, int]()
	m.Store("a", 1)
	m.Store("a", 2) // overwrites
	fmt.Println(m.Load("a"))
	// Output: 2 true
}

func ExampleMap_LoadOrStore() {
	m := cmap.New[string, string]()
	v, loaded := m.LoadOrStore("lang", "Go")
	fmt.Println(v, loaded)
	v, loaded = m.LoadOrStore("lang", "Rust")
	fmt.Println(v, loaded)
	// Output:
	// Go false
	// Go true
}

func ExampleMap_LoadAndDelete() {
	m := cmap.New[string, int]()
	m.Store("job", 42)
	v, loaded := m.LoadAndDelete("job") // take a job exactly once
	fmt.Println(v, loaded)
	v, loaded = m.LoadAndDelete("job")
	fmt.Println(v, loaded)
	// Output:
	// 42 true
	// 0 false
}

func ExampleMap_Delete() {
	m := cmap.New[string, int]()
	m.Store("a", 1)
	m.Delete("a")
	m.Delete("missing") // no-op
	fmt.Println(m.Len())
	// Output: 0
}

func ExampleMap_Swap() {
	m := cmap.New[string, int]()
	prev, loaded := m.Swap("v", 1)
	fmt.Println(prev, loaded)
	prev, loaded = m.Swap("v", 2)
	fmt.Println(prev, loaded)
	// Output:
	// 0 false
	// 1 true
}

func ExampleMap_CompareAndSwap() {
	m := cmap.New[string, int]()
	m.Store("version", 1)
	fmt.Println(m.CompareAndSwap("version", 1, 2)) // optimistic update
	fmt.Println(m.CompareAndSwap("version", 1, 3)) // lost the race
	fmt.Println(m.Load("version"))
	// Output:
	// true
	// false
	// 2 true
}

func ExampleMap_CompareAndDelete() {
	m := cmap.New[string, string]()
	m.Store("lock", "owner-1")
	fmt.Println(m.CompareAndDelete("lock", "owner-2")) // not ours
	fmt.Println(m.CompareAndDelete("lock", "owner-1"))
	// Output:
	// false
	// true
}

func ExampleMap_Range() {
	m := cmap.New[int, string]()
	m.Store(1, "one")
	m.Store(2, "two")
	var seen []string
	m.Range(func(k int, v string) bool {
		seen = append(seen, fmt.Sprint(k, "=", v))
		return true
	})
	slices.Sort(seen) // iteration order is unspecified
	fmt.Println(seen)
	// Output: [1=one 2=two]
}

func ExampleMap_All() {
	m := cmap.New[string, int]()
	m.Store("a", 1)
	m.Store("b", 2)
	sum := 0
	for _, v := range m.All() {
		sum += v
	}
	fmt.Println(sum)
	// Output: 3
}

func ExampleMap_Keys() {
	m := cmap.New[string, int]()
	m.Store("b", 2)
	m.Store("a", 1)
	fmt.Println(slices.Sorted(m.Keys()))
	// Output: [a b]
}

func ExampleMap_Values() {
	m := cmap.New[string, int]()
	m.Store("b", 2)
	m.Store("a", 1)
	fmt.Println(slices.Sorted(m.Values()))
	// Output: [1 2]
}

func ExampleMap_Clear() {
	m := cmap.New[int, int]()
	for i := range 100 {
		m.Store(i, i)
	}
	m.Clear()
	fmt.Println(m.Len())
	// Output: 0
}

func ExampleMap_Len() {
	m := cmap.New[int, int]()
	m.Store(1, 1)
	m.Store(2, 2)
	fmt.Println(m.Len())
	// Output: 2
}

func ExampleMap_Compute() {
	// A word counter: each increment is one atomic read-modify-write.
	counts := cmap.New[string, int]()
	for _, w := range strings.Fields("the cat and the hat") {
		counts.Compute(w, func(old int, _ bool) (int, cmap.ComputeOp) {
			return old + 1, cmap.UpdateOp
		})
	}
	fmt.Println(counts.Load("the"))
	// Delete the key when its count drops to zero.
	v, ok := counts.Compute("cat", func(old int, loaded bool) (int, cmap.ComputeOp) {
		if old <= 1 {
			return 0, cmap.DeleteOp
		}
		return old - 1, cmap.UpdateOp
	})
	fmt.Println(v, ok, counts.Len())
	// Output:
	// 2 true
	// 1 false 3
}

func ExampleMap_LoadOrCompute() {
	// A cache whose expensive values are computed once per key, however
	// many goroutines ask at once.
	cache := cmap.New[string, string]()
	render := func(name string) func() string {
		return func() string { return "<h1>" + name + "</h1>" }
	}
	v, loaded := cache.LoadOrCompute("home", render("home"))
	fmt.Println(v, loaded)
	v, loaded = cache.LoadOrCompute("home", render("ignored"))
	fmt.Println(v, loaded)
	// Output:
	// <h1>home</h1> false
	// <h1>home</h1> true
}

func ExampleMap_Reserve() {
	m := cmap.New[int, int]()
	m.Reserve(100_000) // no table rebuild while filling to 100k entries
	before := m.Stats().Resizes
	for i := range 100_000 {
		m.Store(i, i)
	}
	fmt.Println(m.Stats().Resizes - before)
	// Output: 0
}

func ExampleMap_Stats() {
	// A hasher that returns one value for every key makes every probe
	// walk the same chain: Stats shows it as a long MaxProbe.
	bad := cmap.New[int, int](cmap.WithSegments(1), cmap.WithHasher(func(uint64, int) uint64 { return 0 }))
	good := cmap.New[int, int](cmap.WithSegments(1))
	for i := range 1000 {
		bad.Store(i, i)
		good.Store(i, i)
	}
	fmt.Println(bad.Stats().MaxProbe > 100, good.Stats().MaxProbe < 10)
	// Output: true true
}

func ExampleMap_Snapshot() {
	m := cmap.New[string, int]()
	m.Store("a", 1)
	s := m.Snapshot()
	m.Store("a", 2) // the snapshot does not change
	m.Store("b", 3)
	v, _ := s.Load("a")
	fmt.Println(v, s.Len(), m.Len())
	// Output: 1 1 2
}
