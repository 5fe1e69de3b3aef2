package snapshotimpl_test

import (
	"strings"
	"testing"

	"github.com/segmap/segmap/internal/snapshotimpl"
	"github.com/segmap/segmap/internal/table"
)

func TestNewRejectsZero(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "snapshotimpl: New: not a frozen map") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	snapshotimpl.New(table.Frozen[int, int]{})
}
