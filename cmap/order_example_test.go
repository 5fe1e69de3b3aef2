package cmap_test

import (
	"errors"
	"fmt"

	"github.com/segmap/segmap/cmap"
)

// A FIFO cache: at most three entries; a new key evicts the oldest one,
// and the eviction callback runs after every lock is released (here it
// could write the evicted entry back to a slower store).
func Example_fifoCache() {
	cache := cmap.New[string, string](
		cmap.WithMaxLen(3, cmap.EvictOldest),
		cmap.WithOnEvict(func(key, value string) { fmt.Println("evicted", key) }),
	)
	for _, page := range []string{"/", "/about", "/blog"} {
		cache.Store(page, "<html>"+page)
	}
	cache.Store("/", "<html>/ v2")     // an update: nothing evicted, "/" is now the newest
	cache.Store("/contact", "<html>…") // full: the oldest, "/about", goes
	if _, ok := cache.Load("/about"); !ok {
		fmt.Println("miss /about")
	}
	fmt.Println(cache.Len())
	// Output:
	// evicted /about
	// miss /about
	// 3
}

func ExampleWithInsertionOrder() {
	m := cmap.New[string, int](cmap.WithInsertionOrder())
	m.Store("a", 1)
	m.Store("b", 2)
	m.Store("c", 3)
	m.Load("a")     // reads do not reorder
	m.Store("b", 4) // stores do: b is now the newest
	k, v, _ := m.Oldest()
	fmt.Println("oldest:", k, v)
	k, v, _ = m.Newest()
	fmt.Println("newest:", k, v)
	// Output:
	// oldest: a 1
	// newest: b 4
}

func ExampleMap_PopOldest() {
	// A work queue that also lets producers replace a pending job by key.
	jobs := cmap.New[string, string](cmap.WithInsertionOrder())
	jobs.Store("resize-1", "small")
	jobs.Store("resize-2", "large")
	jobs.Store("resize-1", "medium") // replaced: goes to the back
	for {
		k, v, ok := jobs.PopOldest() // concurrent callers never get the same job
		if !ok {
			break
		}
		fmt.Println(k, v)
	}
	// Output:
	// resize-2 large
	// resize-1 medium
}

func ExampleMap_TryStore() {
	// A fixed-capacity map: laid out once, never grows.
	m := cmap.New[int, string](cmap.WithMaxLen(2, cmap.RejectNew))
	fmt.Println(m.TryStore(1, "one"))
	fmt.Println(m.TryStore(2, "two"))
	err := m.TryStore(3, "three")
	fmt.Println(errors.Is(err, cmap.ErrFull))
	fmt.Println(m.TryStore(1, "uno")) // updates always succeed
	// Output:
	// <nil>
	// <nil>
	// true
	// <nil>
}
