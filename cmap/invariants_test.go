package cmap_test

import (
	"strings"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// The invariant checker (invariants.go) has teeth: a segment whose live
// count is one too high (what a delete that forgot to count itself
// leaves) fails CheckInvariants; built with the tag segmap_invariants, the
// next write to that segment, whichever entry point of the engine it
// comes through, panics naming the violation, with every lock released;
// without the tag, the write runs as before (no check).

// invariantOps are writes through each entry point of the engine (a
// write of a key, a delete by record: PopOldest and an eviction) that
// neither insert nor rebuild on a one-segment map holding keys 0..19 (a
// rebuild would recount the segment and hide the corruption), except the
// evicting Store, whose insert follows its eviction. Call i of op writes
// key 5+i.
var invariantOps = []struct {
	name, cfg string
	opts      []cmap.Option
	op        func(m *cmap.Map[int, int], k int)
}{
	{"Store", "plain", nil, func(m *cmap.Map[int, int], k int) { m.Store(k, 50) }},
	{"Swap", "plain", nil, func(m *cmap.Map[int, int], k int) { m.Swap(k, 50) }},
	{"LoadAndDelete", "plain", nil, func(m *cmap.Map[int, int], k int) { m.LoadAndDelete(k) }},
	{"CompareAndSwap", "plain", nil, func(m *cmap.Map[int, int], k int) { m.CompareAndSwap(k, k, 50) }},
	{"CompareAndDelete", "plain", nil, func(m *cmap.Map[int, int], k int) { m.CompareAndDelete(k, k) }},
	{"Compute", "plain", nil, func(m *cmap.Map[int, int], k int) {
		m.Compute(1000+k, func(int, bool) (int, cmap.ComputeOp) { return 0, cmap.CancelOp })
	}},
	{"PopOldest", "ordered", []cmap.Option{cmap.WithInsertionOrder()}, func(m *cmap.Map[int, int], _ int) { m.PopOldest() }},
	{"Store", "evict", []cmap.Option{cmap.WithMaxLen(20, cmap.EvictOldest)}, func(m *cmap.Map[int, int], k int) { m.Store(1000+k, 1) }},
	{"Store", "reject", []cmap.Option{cmap.WithMaxLen(40, cmap.RejectNew)}, func(m *cmap.Map[int, int], k int) { m.Store(k, 50) }},
}

func TestInvariantsCatchCorruptedSegment(t *testing.T) {
	for _, layout := range []string{"flat", "entries"} {
		for _, tc := range invariantOps {
			t.Run(layout+"/"+tc.cfg+"/"+tc.name, func(t *testing.T) {
				cmap.ForceEntryLayout(layout == "entries")
				m := cmap.New[int, int](append([]cmap.Option{cmap.WithSegments(1)}, tc.opts...)...)
				cmap.ForceEntryLayout(false)
				if got := m.Stats().Layout; len(tc.opts) == 0 && got != layout {
					t.Fatalf("layout %q, want %q", got, layout)
				}
				for k := range 20 {
					m.Store(k, k)
				}
				// At most 16 groups (128 slots): every write checks the
				// whole segment (invariants.go: checkSlots), no sample.
				if g := m.TableGroups()[0]; g > 16 {
					t.Fatalf("%d groups for 20 keys, want at most 16", g)
				}
				check(t, m)
				tc.op(m, 5) // the write itself is sound
				check(t, m)

				m.CorruptLive(5)
				err := m.CheckInvariants()
				if err == nil || !strings.Contains(err.Error(), "owner says") {
					t.Fatalf("CheckInvariants of a corrupted segment = %v, want the live count's violation", err)
				}
				r := recovered(func() { tc.op(m, 6) })
				mustBeUnlocked(t, m)
				if !cmap.Invariants {
					if r != nil {
						t.Fatalf("%s panicked without the invariants tag: %v", tc.name, r)
					}
					return
				}
				msg, _ := r.(string)
				want := "cmap: " + tc.name + ": invariant broken: segment 0: table: "
				if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "owner says") {
					t.Fatalf("%s of a corrupted segment panicked with %v, want %q... naming the live count", tc.name, r, want)
				}
			})
		}
	}
}
