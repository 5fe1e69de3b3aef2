package table

import (
	"strings"
	"testing"
)

// TestLayoutAccessorsCheckTag: a method of one layout called on a table of
// another panics with an internal error naming the mistake, instead of
// reading the other layout's zero fields; the dispatch refuses a table with
// no layout.
func TestLayoutAccessorsCheckTag(t *testing.T) {
	entry := NewLayout[uint64, uint64](1, false)
	flat := NewLayout[uint64, uint64](1, true)
	if entry.IsFlat() || !flat.IsFlat() {
		t.Fatalf("IsFlat: entry %v, flat %v", entry.IsFlat(), flat.IsFlat())
	}
	var zero Table[uint64, uint64]
	for _, c := range []struct {
		name, want string
		f          func()
	}{
		{"Flat on an entry table", "internal error: Flat", func() { entry.Flat() }},
		{"Find on a flat table", "internal error: entry method", func() { flat.Find(1, 1) }},
		{"EntryHome on a flat table", "internal error: entry method", func() { flat.EntryHome(1) }},
		{"FlatHome on an entry table", "internal error: FlatHome", func() { entry.FlatHome(1) }},
		{"Lookup on a flat table", "internal error: entry method", func() { flat.Lookup(1, 1) }},
		{"Locate on a flat table", "internal error: entry method", func() { flat.Locate(1, 1) }},
		{"Insert on a flat table", "internal error: entry method", func() { flat.Insert(0, 1, &Entry[uint64, uint64]{1, 1}) }},
		{"Replace on a flat table", "internal error: entry method", func() { flat.Replace(0, &Entry[uint64, uint64]{1, 1}) }},
		{"At on a flat table", "internal error: entry method", func() { flat.At(0) }},
		{"Range on a flat table", "internal error: entry method", func() { flat.Range(func(*Entry[uint64, uint64]) bool { return true }) }},
		{"Delete on a zero table", "internal error: table with layout 0", func() { zero.Delete(0) }},
		{"Copy on a zero table", "internal error: table with layout 0", func() { zero.Copy(1, func(uint64) uint64 { return 0 }) }},
		{"Clone on a zero table", "internal error: table with layout 0", func() { zero.Clone() }},
	} {
		got := func() (msg string) {
			defer func() { msg, _ = recover().(string) }()
			c.f()
			return "no panic"
		}()
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: panic %q, want one containing %q", c.name, got, c.want)
		}
	}
	if err := zero.CheckInvariants(func(uint64) uint64 { return 0 }, 0, 0); err == nil {
		t.Errorf("CheckInvariants of a zero table: no error")
	}
	// Both layouts share the header.
	for _, tb := range []*Table[uint64, uint64]{entry, NewLayout[uint64, uint64](4, true)} {
		if tb.Groups() != int(tb.mask)+1 || tb.Capacity() != tb.Groups()*SlotsPerGroup || tb.MaxUsed() != MaxUsed(tb.Groups()) {
			t.Errorf("header of a table of layout %d: %d groups, capacity %d, MaxUsed %d", tb.layout, tb.Groups(), tb.Capacity(), tb.MaxUsed())
		}
	}
	if f := flat.Flat(); f.Groups() != flat.Groups() {
		t.Errorf("flat table: Flat().Groups() = %d, Groups() = %d", f.Groups(), flat.Groups())
	}
}
