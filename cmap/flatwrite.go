package cmap

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/segmap/segmap/internal/release"
	"github.com/segmap/segmap/internal/table"
)

// The light writes of a group-lock map of one-word keys and values
// (st.glock and table.FlatOneWord: uint64, int, float64 or smaller keys
// and values, the commonest pointer-free shapes): Store, Swap, TryStore,
// LoadOrStore, Delete, LoadAndDelete, CompareAndSwap, CompareAndDelete
// and Compute of a key whose home group settles the write: the key is there, or it
// is not and the group stops probes, so that the key is absent and an
// insert goes into that group. Such a write locks the home group only
// (fwrite), reads its ctrl word once, and makes the change with the
// inlined steps of internal/table's FlatHold, the same stores in the same
// order as gopen's path (grouplock.go) makes with the same locks held,
// and the same counts in the same stripe with the same quotas. Anything
// else (the group locked by another writer, the key or its insert beyond
// the home group, a quota spent, a preparation due, the table sealed)
// releases the lock, having changed nothing, and takes the general
// group-lock path, which handles every case. They exist because gopen's
// path makes a dozen calls (docs/design.md, "Light writes of a one-word
// flat map").

// fop is the operation of a light write.
type fop uint8

const (
	fSwap          fop = iota // Store, Swap, TryStore
	fLoadOrStore              // LoadOrStore's locked step
	fDelete                   // Delete, LoadAndDelete
	fCompareSwap              // CompareAndSwap's locked step
	fCompareDelete            // CompareAndDelete's locked step
	fCompute                  // Compute
	fComputeDelete            // Compute's f returned DeleteOp (set by fwrite)
	fNone                     // nothing to change (set by fwrite)
)

// fwrite makes write op of key, hashed h, as a light write if it is one;
// done is false if it changed nothing, holds nothing, and the general
// path must write. fn names the method called. For fSwap and
// fLoadOrStore value is stored; fCompareSwap stores value if key holds
// old, fCompareDelete deletes key if it holds old. ok reports whether key
// was present (fSwap, fLoadOrStore, fDelete) or the compare held
// (fCompareSwap, fCompareDelete). result is key's value before the write
// if want (fSwap, fDelete), LoadOrStore's actual value (fLoadOrStore).
// fCompute calls f (Compute's) with key's value and presence and applies
// the op it returns; result and ok are then Compute's.
//
// The steps are written out, one function for the six operations, so
// that the write makes no call but its release stores and an insert's
// FlatHold.Insert (internal/table's other FlatHold methods each inline,
// returning the words to store; a helper holding the lock's steps would
// not inline: cost 290).
func (st *state[K, V]) fwrite(fn string, op fop, key K, h uint64, value, old V, want bool, f func(V, bool) (V, ComputeOp)) (result V, ok, done bool) {
	// The lock, then sealed, loaded after it (see internal/table's
	// flat_lock.go; gopen also loads it before, to spare a sealed table
	// the lock's write, which a light write, seldom facing one, does
	// not). A group locked by another writer sends the write to the
	// general path, which waits for it.
	sl := st.slotOf(st.rd.Load(), h)
	t := sl.table.Load().Flat()
	g := t.Hold(h)
	if !g.TryLock() {
		return result, false, false
	}
	if t.Sealed() {
		g.Unlock()
		return result, false, false
	}
	ctrl := g.Ctrl()
	i := -1
	for m := g.Match(ctrl, h); m != 0; m &= m - 1 {
		if j := g.Slot(m); g.Key(j) == key {
			i = j
			break
		}
	}
	// Whether the home group settles the write, with the tests gopen and
	// gwrite.put make: on a fallback nothing has changed.
	var c *stripe         // the count stripe, for the writes that count
	j, empty := -1, false // j: the slot of an insert
	if i < 0 {
		c = &sl.cs[t.Home(h)&(countStripes-1)]
		// Absent from the home group: absent from the table if the
		// group stops probes; an insert goes there.
		var stops bool
		if j, empty, stops = g.Room(ctrl); !stops {
			// The group does not stop probes (it has no EMPTY byte, only
			// TOMBSTONEs and keys), so key may lie beyond it. For an
			// insert, a lock-free Find over the table settles that: the
			// lock held owns key (grouplock.go, rule 1), so no writer
			// inserts, deletes or moves key meanwhile, and Find's answer
			// for key holds until the unlock. Absent, the insert takes
			// the group's first free slot, a TOMBSTONE, as Locate would
			// (used does not change); present beyond the group, or no
			// slot free, the write falls back.
			insert := op == fSwap || op == fLoadOrStore || op == fCompute
			if !insert {
				g.Unlock()
				return result, false, false
			}
			var free bool
			if j, free = g.Free(ctrl); !free {
				g.Unlock()
				return result, false, false
			}
			if _, present := t.Find(h, key); present {
				g.Unlock()
				return result, false, false
			}
			empty = false
		}
		if op != fSwap && op != fLoadOrStore && op != fCompute {
			j = -1 // nothing to insert
		} else {
			// The reservation of an EMPTY slot in the stripe's share
			// of the load bound, and the preparation point.
			var used int64
			if empty {
				if used = atomic.AddInt64(&c.used, 1); used > atomic.LoadInt64(&c.usedMax) {
					atomic.AddInt64(&c.used, -1)
					g.Unlock()
					return result, false, false
				}
			} else {
				used = atomic.LoadInt64(&c.used)
			}
			if used >= atomic.LoadInt64(&c.prepUsed) && st.prepClaimable(t, h) {
				if empty {
					atomic.AddInt64(&c.used, -1)
				}
				g.Unlock()
				return result, false, false
			}
		}
	} else if op == fDelete || op == fCompareDelete || op == fCompute {
		c = &sl.cs[t.Home(h)&(countStripes-1)]
		if op == fCompareDelete && any(g.Value(i)) != any(old) {
			op = fNone // the compare fails: nothing to change
		} else if op != fCompute {
			// The delete's share of the shrink rule (stripe.takeDelete):
			// live counts the delete from here, which now happens.
			// Beyond the stripe's share: the general path.
			if !c.takeDelete() {
				g.Unlock()
				return result, false, false
			}
			if testHookDeleteTaken != nil {
				testHookDeleteTaken(key)
			}
		}
	}
	if testHookGroupLocked != nil {
		testHookGroupLocked(key)
	}
	deleted := false
	if op == fCompute {
		// f decides the op: an update is the insert (into j, reserved)
		// or the overwrite below, a delete the delete; an absent key's
		// reservation is given back unless f inserts.
		var cur V
		if i >= 0 {
			cur = g.Value(i)
		}
		reserved := j >= 0 && empty
		v, cop := fcall(f, cur, i >= 0, g, c, reserved)
		switch {
		case cop == UpdateOp: // the insert into j, or the overwrite
			value, op, result, ok = v, fSwap, v, true
		case cop != DeleteOp && cop != CancelOp:
			if reserved {
				atomic.AddInt64(&c.used, -1)
			}
			g.Unlock()
			panic(fmt.Sprintf("cmap: Compute: invalid ComputeOp %d", int(cop)))
		case i < 0: // nothing to insert
			if reserved {
				atomic.AddInt64(&c.used, -1)
			}
			j = -1
		case cop == DeleteOp:
			// No shrink test: the segment's next delete decides it, as
			// for gcompute.
			op, result = fComputeDelete, cur
		default: // CancelOp of a present key
			op, result, ok = fNone, cur, true
		}
	}
	switch {
	case j >= 0: // insert
		g.Insert(ctrl, j, h, key, value)
		atomic.AddInt64(&c.live, 1)
		if op == fLoadOrStore {
			result = value
		}
	case i < 0 || op == fNone: // nothing to change
	case op == fLoadOrStore:
		result, ok = g.Value(i), true
	case op == fCompareSwap && any(g.Value(i)) != any(old):
	case op == fSwap || op == fCompareSwap:
		if want {
			result = g.Value(i)
		}
		if p, w := g.KeyWord(i, key); atomic.LoadUint64(p) != w {
			release.Store(p, w)
		}
		if unsafe.Sizeof(value) != 0 {
			release.Store(g.ValueWord(i, value))
		}
		ok = true
	default: // fDelete, fCompareDelete, fComputeDelete
		if want {
			result = g.Value(i)
		}
		p, w, tombstone := g.DeleteWord(ctrl, i)
		release.Store(p, w)
		if !tombstone {
			atomic.AddInt64(&c.used, -1) // the slot became EMPTY
		}
		if op == fComputeDelete { // fDelete and fCompareDelete took theirs above
			atomic.AddInt64(&c.live, -1)
		}
		ok, deleted = op != fComputeDelete, true // Compute returns old, false
	}
	if deleted {
		g.UnlockBump()
	} else {
		g.Unlock()
	}
	if atomic.LoadInt32(&st.awaited) == awaitGroups { // st.handOff, written out
		runtime.Gosched()
	}
	if invariants {
		_, si := st.seg(h)
		st.mustCheckSealed(fn, si)
	}
	return result, ok, true
}

// fcall calls Compute's f for fwrite, which holds key's home group locked
// and, if reserved, an EMPTY slot reserved in stripe c: if f panics, it
// gives the reservation back and releases the lock (the map is as it
// was), and the panic goes on. The deferred call is here, not in fwrite,
// so that the other writes pay nothing for it.
func fcall[K comparable, V any](f func(V, bool) (V, ComputeOp), old V, loaded bool, g table.FlatHold[K, V], c *stripe, reserved bool) (V, ComputeOp) {
	returned := false
	defer func() {
		if !returned {
			if reserved {
				atomic.AddInt64(&c.used, -1)
			}
			g.Unlock()
		}
	}()
	v, op := f(old, loaded)
	returned = true
	return v, op
}

// prepClaimable reports whether an insert into t, the current table of
// hash h's segment, past its stripe's preparation point would claim the
// next table's preparation (gwrite.put): then the general path inserts.
func (st *state[K, V]) prepClaimable(t *table.Flat[K, V], h uint64) bool {
	s, _ := st.seg(h)
	return t.Groups() >= prepMinGroups && s.prep.state.Load() == prepNone
}
