package cmap_test

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// The hand-off of a lock that lockAll waits for (lockall.go, "Hand-off"):
// a writer that releases it yields at once, so that a Snapshot does not
// wait for the writer's time slice to end. Both tests run on one P: the
// holder of the lock (a Compute callback) waits until lockAll waits for
// it, returns, and then writes in a loop until the Snapshot is done,
// counting its writes. With the hand-off the Snapshot is done before the
// writer's next write; without it the writer runs on until the scheduler
// preempts it, after thousands of writes.

// handOffWrites is the most writes the holder may make after releasing
// the lock before the Snapshot is done (without the hand-off: thousands).
const handOffWrites = 100

// lockAllHandOff runs the scenario on m, with a Compute of key holder
// holding the lock, until lockAll waits for wantWait (a segment's index,
// any of them if >= 0; or -1, a group lock), and returns the holder's
// writes after it before the Snapshot was done.
func lockAllHandOff[K comparable](t *testing.T, m *cmap.Map[K, uint64], holder K, keys []K, wantWait int) int {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	waits := make(chan int, 64)
	cmap.SetLockAllWaitsHook(func(i int) { waits <- i })
	defer cmap.SetLockAllWaitsHook(nil)
	var done atomic.Bool
	snapped := make(chan struct{})
	m.Compute(holder, func(old uint64, _ bool) (uint64, cmap.ComputeOp) {
		go func() {
			defer close(snapped)
			s := m.Snapshot()
			done.Store(true)
			if s.Len() == 0 {
				t.Error("snapshot of a non-empty map is empty")
			}
		}()
		for { // until lockAll waits for what this callback holds
			select {
			case w := <-waits:
				if w == wantWait || wantWait >= 0 && w >= 0 {
					return old + 1, cmap.UpdateOp
				}
			case <-time.After(10 * time.Second):
				t.Error("lockAll never waited for the lock the callback holds")
				return old + 1, cmap.UpdateOp
			}
		}
	})
	writes := 0
	for ; !done.Load() && writes < 1_000_000; writes++ {
		m.Store(keys[writes%len(keys)], uint64(writes))
	}
	<-snapped
	t.Logf("writes %d", writes)
	return writes
}

// TestLockAllHandOff: a writer of a segment-lock map (bounded: its
// writes take the segment lock) hands its segment's lock to a waiting
// Snapshot.
func TestLockAllHandOff(t *testing.T) {
	m := cmap.New[string, uint64](cmap.WithSegments(4), cmap.WithMaxLen(1<<20, cmap.RejectNew))
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
		m.Store(keys[i], uint64(i))
	}
	if w := lockAllHandOff(t, m, "holder", keys, 0); w > handOffWrites {
		t.Fatalf("the holder of the lock a Snapshot waits for wrote %d times before the Snapshot was done; want at most %d (it yields on release)", w, handOffWrites)
	}
}

// TestLockAllHandOffGroups: a writer of a group-lock map (uint64 keys:
// flat tables) hands its group's lock to a Snapshot sealing the tables.
func TestLockAllHandOffGroups(t *testing.T) {
	m := cmap.New[uint64, uint64](cmap.WithSegments(4))
	keys := make([]uint64, 1000)
	for i := range keys {
		keys[i] = uint64(i)
		m.Store(keys[i], uint64(i))
	}
	if w := lockAllHandOff(t, m, 1<<40, keys, -1); w > handOffWrites {
		t.Fatalf("the holder of the group lock a Snapshot waits for wrote %d times before the Snapshot was done; want at most %d (it yields on release)", w, handOffWrites)
	}
}
