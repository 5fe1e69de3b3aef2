package table

import "sync/atomic"

// Group locks of arena tables: those of flat tables (flat_lock.go, whose
// rules apply as written), on the same group geometry, plus what an arena
// adds. Group-lock writers of one table share its arena: an insert appends
// its key's record and a delete counts its record as garbage holding amu,
// for those few stores only; the slot's words and ctrl byte are written
// under the group lock, as in a flat table. An overwrite (Replace) leaves
// the arena alone. The holder of the segment lock writes with the table
// sealed, when no group-lock writer is inside, and takes no amu.

func (t *Arena[K, V]) verWord(g uint64) *uint64 { return &t.words[int(g)*t.stride+1] }

// TryLockGroup is Flat.TryLockGroup.
func (t *Arena[K, V]) TryLockGroup(g uint64) bool { return tryLockWord(t.verWord(g)) }

// LockGroup is Flat.LockGroup.
func (t *Arena[K, V]) LockGroup(g uint64) { lockWord(t.verWord(g)) }

// UnlockGroup is Flat.UnlockGroup.
func (t *Arena[K, V]) UnlockGroup(g uint64) { unlockWord(t.verWord(g)) }

// GroupLocked is Flat.GroupLocked.
func (t *Arena[K, V]) GroupLocked(g uint64) bool { return lockedWord(t.verWord(g)) }

// WaitUnlocked is Flat.WaitUnlocked.
func (t *Arena[K, V]) WaitUnlocked(g uint64) { waitUnlocked(t.verWord(g), g) }

// WaitAllUnlocked is Flat.WaitAllUnlocked.
func (t *Arena[K, V]) WaitAllUnlocked(limit int) int {
	return waitAllUnlocked(t.words, t.stride, limit)
}

// Sealed is Flat.Sealed.
func (t *Arena[K, V]) Sealed() bool { return atomic.LoadUint32(&t.sealed) != 0 }

// Seal is Flat.Seal.
func (t *Arena[K, V]) Seal() { atomic.StoreUint32(&t.sealed, 1) }

// Unseal is Flat.Unseal.
func (t *Arena[K, V]) Unseal() { atomic.StoreUint32(&t.sealed, 0) }

// Home returns the home group of hash h.
func (t *Arena[K, V]) Home(h uint64) uint64 { return h & t.mask }

// FreeIn is Flat.FreeIn.
func (t *Arena[K, V]) FreeIn(g uint64) (Pos, bool) { return freeIn(t.group(g), g, t.sp) }

// LocateFree is Flat.LocateFree: the slot of key, or the candidate free
// slot of its insert, for a writer holding the lock of key's home group;
// each group it does not hold is read as a reader reads it, its answer
// standing only if its version word did not move. Records are compared
// through the published directory, as a reader does.
func (t *Arena[K, V]) LocateFree(h uint64, key K) (pos Pos, free Pos, freeIsEmpty bool) {
	s := keyString(&key)
	tw := tagWord[uint64](tagOf(h))
	chk := checkOf(h)
	g := h & t.mask
	free = NoPos
	for range t.Groups() {
		grp := t.group(g)
		var ctrl uint64
		for {
			ver := atomic.LoadUint64(&grp[1])
			ctrl = loadCtrl(grp)
			pos = NoPos
			for m := matchWord(ctrl, tw); m != 0; m &= m - 1 {
				i := slotOf(m)
				if ref := atomic.LoadUint64(&grp[flatHeader+i*t.sw]); ref&refCheck == chk && t.keyEq(ref, s) {
					pos = Pos(g<<3) + Pos(i)
					break
				}
			}
			if atomic.LoadUint64(&grp[1]) == ver {
				break
			}
		}
		if pos != NoPos {
			return pos, NoPos, false
		}
		if f := matchFree(ctrl); free == NoPos && stops(f, t.sp) {
			i := slotOf(f)
			free, freeIsEmpty = Pos(g<<3)+Pos(i), byteAt(ctrl, i) == ctrlEmpty
		}
		if stops(matchEmpty(ctrl), t.sp) {
			return NoPos, free, freeIsEmpty
		}
		g = (g + 1) & t.mask
	}
	panic("table: arena probe found no stopping group: load bound broken")
}

// InsertShared is Insert for a group-lock writer holding the lock of p's
// group: the record is appended holding amu.
func (t *Arena[K, V]) InsertShared(p Pos, h uint64, key K, value V) {
	t.amu.Lock()
	ref := t.appendRecord(keyString(&key)) | checkOf(h)
	t.amu.Unlock()
	t.publish(p, h, ref, value)
}

// DeleteShared is Delete for a group-lock writer holding the lock of p's
// group: the record is counted as garbage holding amu. If the delete
// breaks the garbage bound (NeedsCompact would have said so before it),
// it sets due, so that the segment's next write compacts the table.
func (t *Arena[K, V]) DeleteShared(p Pos) (tombstone bool) {
	t.amu.Lock()
	if t.NeedsCompact(p) {
		atomic.StoreUint32(&t.due, 1)
	}
	t.countDelete(p)
	t.amu.Unlock()
	return t.unpublish(p)
}

// CompactDue reports whether a group-lock delete broke the garbage bound
// (DeleteShared): the table must be compacted before its next write.
func (t *Arena[K, V]) CompactDue() bool { return atomic.LoadUint32(&t.due) != 0 }
