package snapshotimpl_test

import (
	"strings"
	"testing"

	"github.com/segmap/segmap/internal/snapshotimpl"
	"github.com/segmap/segmap/internal/table"
)

type holder struct{ snapshotimpl.View }

func TestInitRejectsZero(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "snapshotimpl: Init: not a frozen map") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	snapshotimpl.Init[int, int](new(holder), table.Frozen[int, int]{})
}

func TestInitOnce(t *testing.T) {
	f := table.Frozen[int, int]{Hasher: new(table.Hasher[int]), Tables: []*table.Table[int, int]{table.New[int, int](1)}}
	h := new(holder)
	snapshotimpl.Init[int, int](h, f)
	if got := snapshotimpl.Frozen[int, int](h); len(got.Tables) != 1 {
		t.Fatalf("Frozen after Init: %d tables, want 1", len(got.Tables))
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "snapshotimpl: Init: snapshot already made") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	snapshotimpl.Init[int, int](h, f)
}

func TestFrozenOfZero(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "cmap.Map.Snapshot") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	snapshotimpl.Frozen[int, int](new(holder))
}
