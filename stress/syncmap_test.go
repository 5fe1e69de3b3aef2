package stress_test

import (
	"testing"

	"github.com/segmap/segmap/stress"
)

// TestSyncMap puts sync.Map through the harness, as a user would: the
// control that shows the checks do not fail a correct map.
func TestSyncMap(t *testing.T) {
	stress.Run(t, func() stress.Map { return new(stress.SyncMap) }, stress.Options{})
}
