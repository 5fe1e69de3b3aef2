package table

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestGroupLockBumpRace: a sealer (the segment lock's holder) inserts and
// deletes in a group, bumping its version, while other goroutines take
// and release the group's lock for an instant, as group-lock writers that
// find the table sealed do. Every read-modify-write of the version word
// being one atomic operation, the word ends exactly at the sum of the
// bumps with the lock bit clear. (With a bump written as Store(Load+2), or
// an unlock as Store(Load&^1), a bump is lost, or the lock bit stays set,
// and the segment's writers would wait forever.)
func TestGroupLockBumpRace(t *testing.T) {
	const rounds, lockers = 20000, 3
	f := NewFlat[uint64, uint64](1)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range lockers {
		wg.Go(func() {
			for !stop.Load() {
				if f.TryLockGroup(0) {
					f.UnlockGroup(0)
				}
			}
		})
	}
	for i := range uint64(rounds) {
		h := i << 32 // tag from bits 32..38, home group 0
		_, _, free, _ := f.Locate(h, i)
		f.Insert(free, h, i, i)
		p, found, _, _ := f.Locate(h, i)
		if !found {
			t.Fatalf("key %d not found after its insert", i)
		}
		f.Delete(p)
	}
	stop.Store(true)
	wg.Wait()
	if v := atomic.LoadUint64(f.verWord(0)); v != rounds*versionStep {
		t.Fatalf("version word %#x after %d deletes, want %#x (lock bit clear, no bump lost)", v, rounds, rounds*versionStep)
	}
}

// TestGroupLockBasics: TryLockGroup fails on a locked group, UnlockGroup
// frees it, a Clone's locks are all free and the clone is sealed, and a
// new table is not.
func TestGroupLockBasics(t *testing.T) {
	f := NewFlat[uint64, uint64](4)
	if f.Sealed() {
		t.Fatal("a new table is sealed")
	}
	if !f.TryLockGroup(2) || f.TryLockGroup(2) || !f.GroupLocked(2) {
		t.Fatal("TryLockGroup: a group locked twice, or not at all")
	}
	c := f.Clone()
	if c.GroupLocked(2) || !c.Sealed() {
		t.Fatalf("Clone: group 2 locked %v, sealed %v; want free, sealed", c.GroupLocked(2), c.Sealed())
	}
	f.UnlockGroup(2)
	if f.GroupLocked(2) {
		t.Fatal("UnlockGroup left the group locked")
	}
	f.LockGroup(2)
	done := make(chan struct{})
	go func() { f.WaitUnlocked(2); close(done) }()
	f.UnlockGroup(2)
	<-done
}

// TestFlatBornSealed: every flat table that a rebuild copies into (Copy,
// Clone, Table.Empty and Table.Prepare, the last two for prepared tables)
// is born sealed, so that no group-lock writer who loads it once it is
// published writes it while its maker, holding the segment lock, still
// does; only the maker's unseal opens it. (With Empty born unsealed, the
// rebuild's own insert and a group-lock writer's raced in the new table:
// cmap's TestGroupLockSameKeyInserts found a key stored twice.)
func TestFlatBornSealed(t *testing.T) {
	f := NewFlat[uint64, uint64](4)
	f.Insert(0, 0, 1, 1)
	tt := wrapFlat(f)
	hash := func(k uint64) uint64 { return 0 }
	c, _ := f.Copy(4, hash)
	for _, x := range []struct {
		name string
		t    *Flat[uint64, uint64]
	}{
		{"Copy", c},
		{"Clone", f.Clone()},
		{"Table.Empty", tt.Empty(8).Flat()},
		{"Table.Prepare", tt.Prepare(8).Flat()},
	} {
		if !x.t.Sealed() {
			t.Errorf("%s: table born unsealed", x.name)
		}
	}
}

// TestDeleteHeldBumpsAtUnlock: a reader that loaded a group's version and
// ctrl word while a writer held the group's lock, before that writer
// deleted (DeleteHeld) and released the lock (UnlockGroupBump), must not
// return the value that the next holder is writing into the freed slot
// and has not published: the unlock bumped the version, so the reader's
// version no longer matches even with the lock bit set again. (With
// UnlockGroupBump a plain unlock, the word is back to the reader's value
// once the next writer locks, and the reader returns the unpublished
// value.)
func TestDeleteHeldBumpsAtUnlock(t *testing.T) {
	tb := NewFlat[uint64, tornVal](1)
	_, _, free, _ := tb.Locate(0, 1)
	tb.Insert(free, 0, 1, makeTorn(1, 0))
	grp := tb.group(0)
	tb.LockGroup(0)
	ver, ctrl := atomic.LoadUint64(&grp[1]), atomic.LoadUint64(&grp[0]) // the reader starts
	tb.DeleteHeld(free)
	tb.UnlockGroupBump(0)
	if tb.GroupLocked(0) {
		t.Fatal("UnlockGroupBump left the group locked")
	}
	if got := atomic.LoadUint64(&grp[1]); got != ver&^lockBit+versionStep {
		t.Fatalf("version word %#x after UnlockGroupBump of %#x, want %#x", got, ver, ver&^lockBit+versionStep)
	}
	tb.LockGroup(0)
	reinsertUnseen(t, tb, free, ver, ctrl)
	tb.UnlockGroup(0)
}
