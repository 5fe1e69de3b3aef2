package cmap_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/segmap/segmap/cmap"
)

// A Map encodes as the plain map[K]V with the same entries would, keys
// sorted, from one instant of the map.
func ExampleMap_MarshalJSON() {
	m := cmap.New[string, []int]()
	m.Store("primes", []int{2, 3, 5})
	m.Store("evens", []int{2, 4})
	m.Store("none", nil)
	_ = json.NewEncoder(os.Stdout).Encode(m)
	// Output: {"evens":[2,4],"none":null,"primes":[2,3,5]}
}

// Decoding merges into the map, as into a plain map. A decode error
// changes nothing, where a plain map would keep part of the input.
func ExampleMap_UnmarshalJSON() {
	var m cmap.Map[string, int] // the zero Map works
	m.Store("kept", 1)
	m.Store("a", 0)
	err := json.Unmarshal([]byte(`{"a":10,"b":20}`), &m)
	fmt.Println(err, m.Len())
	a, _ := m.Load("a")
	fmt.Println(a)
	err = json.Unmarshal([]byte(`{"c":30,"d":"forty"}`), &m)
	fmt.Println(err)
	_, ok := m.Load("c")
	fmt.Println(ok, m.Len())
	// Output:
	// <nil> 3
	// 10
	// json: cannot unmarshal string into Go value of type int
	// false 3
}
