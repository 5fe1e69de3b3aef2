package cmap_test

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestUnmarshalJSONBoundedOrderedEdges: JSON keys that differ as text but
// decode to one key ("1", "01", "+1" for int keys) count once, at their
// last position, for the order and for a RejectNew map's room; a full
// RejectNew map takes JSON that only updates its keys; a failing decode
// into a bounded map changes nothing.
func TestUnmarshalJSONBoundedOrderedEdges(t *testing.T) {
	m := cmap.New[int, int](cmap.WithInsertionOrder())
	if err := json.Unmarshal([]byte(`{"1":1,"2":2,"01":3,"3":4,"+2":5}`), m); err != nil {
		t.Fatal(err)
	}
	var order []int
	for k := range m.Snapshot().InOrder() {
		order = append(order, k)
	}
	var plain map[int]int
	json.Unmarshal([]byte(`{"1":1,"2":2,"01":3,"3":4,"+2":5}`), &plain)
	if got := contents(m); !maps.Equal(got, plain) || !slices.Equal(order, []int{1, 3, 2}) {
		t.Fatalf("holds %v in order %v; want %v in order [1 3 2]", got, order, plain)
	}

	r := cmap.New[int, int](cmap.WithMaxLen(3, cmap.RejectNew), cmap.WithInsertionOrder())
	r.Store(1, 1)
	r.Store(2, 2)
	if err := json.Unmarshal([]byte(`{"7":1,"07":2,"+7":3}`), r); err != nil { // one new key
		t.Fatalf("one new key, spelled three ways, into a map with room for one: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"1":10,"2":20,"7":70}`), r); err != nil {
		t.Fatalf("updates only, into a full map: %v", err)
	}
	if got := contents(r); !maps.Equal(got, map[int]int{1: 10, 2: 20, 7: 70}) {
		t.Fatalf("full map after updates: %v", got)
	}
	if err := json.Unmarshal([]byte(`{"1":11,"8":8}`), r); !errors.Is(err, cmap.ErrFull) {
		t.Fatalf("a new key into a full map: %v, want ErrFull", err)
	}
	if err := json.Unmarshal([]byte(`{"1":12,"9":"x"}`), r); err == nil {
		t.Fatal("a bad value decoded")
	}
	if got := contents(r); !maps.Equal(got, map[int]int{1: 10, 2: 20, 7: 70}) {
		t.Fatalf("failed decodes changed the map: %v", got)
	}
	check(t, r)
}
