package cmap_test

import (
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestLayoutChoice: New picks the flat layout for small pointer-free keys
// and values without insertion order, the arena layout for string keys
// (or a defined type of them) and small pointer-free values without
// insertion order, the entry layout otherwise.
func TestLayoutChoice(t *testing.T) {
	type small struct {
		a uint8
		b float64
	}
	_ = small{a: 1, b: 2} // fields that pad the type; only its layout matters
	type name string
	for _, c := range []struct {
		name, got, want string
	}{
		{"int → int", cmap.New[int, int]().Stats().Layout, "flat"},
		{"[4]uint64 → [4]uint64", cmap.New[[4]uint64, [4]uint64]().Stats().Layout, "flat"},
		{"struct → bool", cmap.New[small, bool]().Stats().Layout, "flat"},
		{"zero Map", new(cmap.Map[int, int]).Stats().Layout, "flat"},
		{"RejectNew", cmap.New[int, int](cmap.WithMaxLen(10, cmap.RejectNew)).Stats().Layout, "flat"},
		{"string key", cmap.New[string, int]().Stats().Layout, "arena"},
		{"named string key", cmap.New[name, [4]uint64]().Stats().Layout, "arena"},
		{"string key, zero Map", new(cmap.Map[string, small]).Stats().Layout, "arena"},
		{"string key, RejectNew", cmap.New[string, int](cmap.WithMaxLen(10, cmap.RejectNew)).Stats().Layout, "arena"},
		{"string key, pointer value", cmap.New[string, string]().Stats().Layout, "entries"},
		{"string key, 40-byte value", cmap.New[string, [5]uint64]().Stats().Layout, "entries"},
		{"string key, insertion order", cmap.New[string, int](cmap.WithInsertionOrder()).Stats().Layout, "entries"},
		{"[1]string key", cmap.New[[1]string, int]().Stats().Layout, "entries"},
		{"pointer value", cmap.New[int, *int]().Stats().Layout, "entries"},
		{"40-byte value", cmap.New[int, [5]uint64]().Stats().Layout, "entries"},
		{"insertion order", cmap.New[int, int](cmap.WithInsertionOrder()).Stats().Layout, "entries"},
		{"EvictOldest", cmap.New[int, int](cmap.WithMaxLen(10, cmap.EvictOldest)).Stats().Layout, "entries"},
	} {
		if c.got != c.want {
			t.Errorf("%s: layout %q, want %q", c.name, c.got, c.want)
		}
	}
}

// TestPromisesEntryLayout runs again, with the entry layout forced, the
// tests of docs/guarantees.md whose maps (int keys and values) are flat,
// so that both layouts are held to every promise.
func TestPromisesEntryLayout(t *testing.T) {
	cmap.ForceEntryLayout(true)
	defer cmap.ForceEntryLayout(false)
	if l := cmap.New[int, int]().Stats().Layout; l != "entries" {
		t.Fatalf("forced layout %q, want entries", l)
	}
	for _, c := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"TestMethods", TestMethods},
		{"TestModel", TestModel},
		{"TestGrowAndShrink", TestGrowAndShrink},
		{"TestTombstoneCleanup", TestTombstoneCleanup},
		{"TestReserve", TestReserve},
		{"TestClear", TestClear},
		{"TestIterators", TestIterators},
		{"TestConcurrentDisjointWriters", TestConcurrentDisjointWriters},
		{"TestConcurrentCompute", TestConcurrentCompute},
		{"TestLoadOrComputeOnce", TestLoadOrComputeOnce},
		{"TestLoadNeverBlocks", TestLoadNeverBlocks},
		{"TestWritersOfOtherSegmentsProceed", TestWritersOfOtherSegmentsProceed},
		{"TestRangeUnderDeleteReinsert", TestRangeUnderDeleteReinsert},
		{"TestSnapshotPrefixOfRounds", TestSnapshotPrefixOfRounds},
		{"TestSnapshotNeverChanges", TestSnapshotNeverChanges},
		{"TestClearAtomic", TestClearAtomic},
		{"TestClearAtomicForReaders", TestClearAtomicForReaders},
		{"TestPanickingHasher", TestPanickingHasher},
		{"TestNaNKeys", TestNaNKeys},
		{"TestMarshalJSONOneInstant", TestMarshalJSONOneInstant},
	} {
		t.Run(c.name, c.f)
	}
}
