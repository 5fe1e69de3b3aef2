package cmap_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// textFloat is a float key with a text form, so that JSON objects can
// hold NaN and -0 keys: "NaN", "-0", "1.5".
type textFloat float64

func (f textFloat) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(f), 'g', -1, 64)), nil
}

func (f *textFloat) UnmarshalText(b []byte) error {
	x, err := strconv.ParseFloat(string(b), 64)
	*f = textFloat(x)
	return err
}

// pairs returns the entries of seq as "key=value" strings, the key in its
// text form (NaN keys included, once per entry; -0 apart from 0), sorted.
func pairs[V any](seq func(func(textFloat, V) bool)) []string {
	var out []string
	for k, v := range seq {
		kt, _ := k.MarshalText()
		out = append(out, fmt.Sprintf("%s=%v", kt, v))
	}
	slices.Sort(out)
	return out
}

// TestUnmarshalJSONNaNKeys: every NaN key of a JSON object is decoded as
// its own entry with its own value, as encoding/json decodes it into a
// plain map (a NaN is never equal to another, so each is a distinct key),
// on flat, entry, insertion-order and RejectNew maps, into an empty map
// and into one that already holds a NaN key. A map with insertion order
// stores them at their places in the document.
func TestUnmarshalJSONNaNKeys(t *testing.T) {
	docs := []string{
		`{"NaN":7,"1":8}`,
		`{"NaN":7,"1":8,"NaN":9,"2":1,"1":10,"NaN":11}`,
		`{"NaN":0,"NaN":-1}`,
	}
	kinds := []struct {
		name   string
		entry  bool // forced
		layout string
		opts   []cmap.Option
	}{
		{"flat", false, "flat", nil},
		{"entry", true, "entries", nil},
		{"insertion-order", false, "entries", []cmap.Option{cmap.WithInsertionOrder()}},
		{"RejectNew", false, "flat", []cmap.Option{cmap.WithMaxLen(20, cmap.RejectNew)}},
		{"RejectNew-entry", true, "entries", []cmap.Option{cmap.WithMaxLen(20, cmap.RejectNew)}},
		{"EvictOldest", false, "entries", []cmap.Option{cmap.WithMaxLen(20, cmap.EvictOldest)}},
	}
	for _, k := range kinds {
		for _, prefill := range []bool{false, true} {
			for _, doc := range docs {
				t.Run(fmt.Sprintf("%s/prefill=%v/%s", k.name, prefill, doc), func(t *testing.T) {
					cmap.ForceEntryLayout(k.entry)
					m := cmap.New[textFloat, int](append([]cmap.Option{cmap.WithSegments(2)}, k.opts...)...)
					cmap.ForceEntryLayout(false)
					if got := m.Stats().Layout; got != k.layout {
						t.Fatalf("layout %q, want %q", got, k.layout)
					}
					plain := map[textFloat]int{}
					if prefill {
						for _, kv := range []struct {
							k textFloat
							v int
						}{{textFloat(math.NaN()), 5}, {2, 6}} {
							m.Store(kv.k, kv.v)
							plain[kv.k] = kv.v
						}
					}
					if err := json.Unmarshal([]byte(doc), &plain); err != nil {
						t.Fatal(err)
					}
					if err := json.Unmarshal([]byte(doc), m); err != nil {
						t.Fatal(err)
					}
					want := pairs(func(yield func(textFloat, int) bool) {
						for k, v := range plain {
							if !yield(k, v) {
								return
							}
						}
					})
					if got := pairs(m.All()); !slices.Equal(got, want) {
						t.Fatalf("map holds %v, a plain map %v", got, want)
					}
					if m.Len() != len(plain) {
						t.Fatalf("Len = %d, plain map %d", m.Len(), len(plain))
					}
					check(t, m)
				})
			}
		}
	}
}

// TestUnmarshalJSONNaNKeysInOrder: a map with insertion order stores each
// NaN key of the document at its own place, with its own value, and the
// other keys at their last occurrence.
func TestUnmarshalJSONNaNKeysInOrder(t *testing.T) {
	for _, entry := range []bool{false, true} {
		cmap.ForceEntryLayout(entry)
		m := cmap.New[textFloat, int](cmap.WithInsertionOrder(), cmap.WithSegments(4))
		cmap.ForceEntryLayout(false)
		doc := `{"NaN":7,"1":8,"NaN":9,"2":1,"1":10,"NaN":11,"3":0}`
		if err := json.Unmarshal([]byte(doc), m); err != nil {
			t.Fatal(err)
		}
		var got []string
		for k, v := range m.Snapshot().InOrder() {
			kt, _ := k.MarshalText()
			got = append(got, fmt.Sprintf("%s=%d", kt, v))
		}
		want := []string{"NaN=7", "NaN=9", "2=1", "1=10", "NaN=11", "3=0"}
		if !slices.Equal(got, want) {
			t.Fatalf("entry layout %v: order %v, want %v", entry, got, want)
		}
	}
}

// TestUnmarshalJSONNaNKeysRejectNew: on a RejectNew map, every NaN key of
// the document is a new key, counted against the room left.
func TestUnmarshalJSONNaNKeysRejectNew(t *testing.T) {
	m := cmap.New[textFloat, int](cmap.WithSegments(2), cmap.WithMaxLen(4, cmap.RejectNew))
	m.Store(1, 1)
	m.Store(textFloat(math.NaN()), 2)
	err := json.Unmarshal([]byte(`{"NaN":3,"1":4,"NaN":5,"NaN":6}`), m) // 3 new keys, room for 2
	if !errors.Is(err, cmap.ErrFull) {
		t.Fatalf("err = %v, want ErrFull", err)
	}
	if got := pairs(m.All()); !slices.Equal(got, []string{"1=1", "NaN=2"}) {
		t.Fatalf("a refused UnmarshalJSON left %v", got)
	}
	if err := json.Unmarshal([]byte(`{"NaN":3,"1":4,"NaN":5}`), m); err != nil {
		t.Fatal(err)
	}
	if got := pairs(m.All()); !slices.Equal(got, []string{"1=4", "NaN=2", "NaN=3", "NaN=5"}) {
		t.Fatalf("map holds %v", got)
	}
	check(t, m)
}
