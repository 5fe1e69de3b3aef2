package snapshot_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/segmap/segmap/cmap"
	"github.com/segmap/segmap/snapshot"
)

// A consistent backup while writers keep going: the snapshot is taken in
// O(segments), then exported at leisure. Every entry in the export is from
// the same instant: writes that return before Snapshot is called are in it,
// writes made after it returns are not, however long the export takes.
func Example_backup() {
	sessions := cmap.New[string, int]()
	for i, user := range []string{"ann", "bob", "cat"} {
		sessions.Store(user, i+1)
	}

	var snap *snapshot.Snapshot[string, int] = sessions.Snapshot() // point in time, O(segments)

	var wg sync.WaitGroup // writers go on during the export
	wg.Go(func() {
		sessions.Store("dan", 4)
		sessions.Delete("ann")
		sessions.Store("bob", 20)
	})

	_ = json.NewEncoder(os.Stdout).Encode(snap) // as a map[string]int: keys sorted
	wg.Wait()
	fmt.Println("live map now has", sessions.Len(), "sessions")
	// Output:
	// {"ann":1,"bob":2,"cat":3}
	// live map now has 3 sessions
}

// A snapshot as a stable, repeatable report: iterating it twice gives the
// same entries, while the map moves on.
func ExampleSnapshot_All() {
	m := cmap.New[int, string]()
	m.Store(1, "one")
	m.Store(2, "two")
	s := m.Snapshot()
	m.Delete(1)
	var keys []int
	for k := range s.All() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Println(keys, s.Len(), m.Len())
	// Output: [1 2] 2 1
}

func ExampleSnapshot_Load() {
	m := cmap.New[string, int]()
	m.Store("x", 1)
	s := m.Snapshot()
	m.Store("x", 2)
	v, ok := s.Load("x")
	fmt.Println(v, ok)
	// Output: 1 true
}

func ExampleSnapshot_Len() {
	m := cmap.New[int, int]()
	for i := range 10 {
		m.Store(i, i)
	}
	s := m.Snapshot()
	m.Clear()
	fmt.Println(s.Len(), m.Len())
	// Output: 10 0
}

func ExampleSnapshot_Keys() {
	m := cmap.New[string, int]()
	m.Store("b", 1)
	m.Store("a", 2)
	fmt.Println(slices.Sorted(m.Snapshot().Keys()))
	// Output: [a b]
}

func ExampleSnapshot_Values() {
	m := cmap.New[string, int]()
	m.Store("b", 1)
	m.Store("a", 2)
	fmt.Println(slices.Sorted(m.Snapshot().Values()))
	// Output: [1 2]
}

func ExampleSnapshot_InOrder() {
	m := cmap.New[string, int](cmap.WithInsertionOrder())
	m.Store("first", 1)
	m.Store("second", 2)
	m.Store("third", 3)
	m.Store("first", 10) // a store moves the key to the newest position
	s := m.Snapshot()
	m.Delete("second") // the snapshot does not change
	for k, v := range s.InOrder() {
		fmt.Println(k, v)
	}
	// Output:
	// second 2
	// third 3
	// first 10
}

// A snapshot encodes as the plain map[K]V with its entries: the keys
// sorted, integer and encoding.TextMarshaler keys as strings.
func ExampleSnapshot_MarshalJSON() {
	m := cmap.New[int, string]()
	m.Store(10, "ten")
	m.Store(9, "<nine>")
	s := m.Snapshot()
	m.Store(11, "eleven") // not in s
	b, err := json.Marshal(s)
	fmt.Println(string(b), err)
	// Output: {"10":"ten","9":"\u003cnine\u003e"} <nil>
}
