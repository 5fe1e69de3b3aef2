package stress

import (
	"fmt"
	"sync/atomic"
)

// Churn: writers insert ever-new keys and delete each one soon after, so the
// live set stays small while tombstones pile up, and rewrite live keys with
// the value they hold. Each writer inserts and deletes its keys in order and
// publishes four watermarks around its operations; readers use them to tell
// which keys must be present, and which absent, for the whole of a Load or a
// Range, and check that the map agrees.

const churnWindow = 16 // live keys per writer

// marks are one writer's watermarks over the sequence numbers of its keys:
// key seq has begun to be inserted iff seq < insStarted, its insert has
// returned iff seq < inserted, and likewise for its delete.
// deleted <= delStarted <= inserted <= insStarted always.
type marks struct {
	insStarted, inserted, delStarted, deleted atomic.Int64
}

// sure tells what a reader may conclude about key seq of a writer from a
// read of m before an operation and a read of m after it: whether the key
// was present (it had been inserted before, and its delete had not begun
// after) or absent (deleted before, or not yet inserted after) for the whole
// operation. A key that is neither may be found or not.
func sure(seq int64, before, after *marks) (present, absent bool) {
	present = seq < before.inserted.Load() && seq >= after.delStarted.Load()
	absent = seq < before.deleted.Load() || seq >= after.insStarted.Load()
	return present, absent
}

// snapshot copies the watermarks, reading them from the one that moves
// last to the one that moves first, so that the copy keeps their order.
func (m *marks) snapshot() *marks {
	var c marks
	c.deleted.Store(m.deleted.Load())
	c.delStarted.Store(m.delStarted.Load())
	c.inserted.Store(m.inserted.Load())
	c.insStarted.Store(m.insStarted.Load())
	return &c
}

func churn(s *state, newMap func() Map) {
	g := s.cfg.goroutines
	writers := max(1, g/2)
	readers := max(1, g-writers)
	m := newMap()
	base := s.rng().Uint64N(1 << 40)
	key := func(w int, seq int64) uint64 { return base + uint64(seq)*uint64(writers) + uint64(w) }
	// owner decodes a key: its writer and sequence number. (A key beyond
	// every writer's keys decodes to a sequence number not yet inserted.)
	owner := func(k uint64) (w int, seq int64, ok bool) {
		if k < base {
			return 0, 0, false
		}
		return int((k - base) % uint64(writers)), int64((k - base) / uint64(writers)), true
	}
	wm := make([]marks, writers)
	var writing atomic.Int32
	writing.Store(int32(writers))
	grp := s.group()
	for w := range writers {
		grp.Go(func() {
			defer writing.Add(-1)
			rng := s.rng(0, uint64(w))
			mk := &wm[w]
			var lo, hi int64 // live keys: lo <= seq < hi
			for n := 0; n%16 != 0 || !s.expired(); n++ {
				k := key(w, hi)
				mk.insStarted.Store(hi + 1)
				if bad := insertAbsent(m, rng, k, valueFor(k, 1)); bad != "" {
					s.errorf("writer %d, inserting its new key %d: %s", w, k, bad)
					return
				}
				hi++
				mk.inserted.Store(hi)
				if rng.IntN(4) == 0 {
					k := key(w, lo+rng.Int64N(hi-lo))
					if bad := rewritePresent(m, rng, k, valueFor(k, 1)); bad != "" {
						s.errorf("writer %d, rewriting its live key %d: %s", w, k, bad)
						return
					}
				}
				if hi-lo > churnWindow {
					k := key(w, lo)
					mk.delStarted.Store(lo + 1)
					if bad := deletePresent(m, rng, k, valueFor(k, 1)); bad != "" {
						s.errorf("writer %d, deleting its live key %d: %s", w, k, bad)
						return
					}
					lo++
					mk.deleted.Store(lo)
				}
			}
		})
	}
	for r := range readers {
		grp.Go(func() {
			rng := s.rng(1, uint64(r))
			for n := 0; writing.Load() > 0 && !s.stopped(); n++ {
				if n%256 == 255 {
					if bad := churnRange(m, wm, owner); bad != "" {
						s.errorf("reader %d: %s", r, bad)
						return
					}
					continue
				}
				w := rng.IntN(writers)
				before := wm[w].snapshot()
				lo := max(0, before.deleted.Load()-2*churnWindow)
				seq := lo + rng.Int64N(before.inserted.Load()+churnWindow-lo)
				k := key(w, seq)
				v, ok := m.Load(k)
				after := wm[w].snapshot()
				present, absent := sure(seq, before, after)
				var bad string
				switch {
				case ok && v != valueFor(k, 1):
					bad = "a value never stored under it"
				case !ok && v != 0:
					bad = "a miss with a value other than 0"
				case present && !ok:
					bad = "a miss, but the key was present for the whole Load"
				case absent && ok:
					bad = "a hit, but the key was absent for the whole Load (deleted before, or inserted after)"
				}
				if bad != "" {
					s.errorf("reader %d: Load(%d) = (%#x, %t): %s (writer %d's key #%d; its watermarks before the Load %s, after %s)",
						r, k, v, ok, bad, w, seq, before, after)
					return
				}
			}
		})
	}
	grp.Wait()
	if s.stopped() {
		return
	}
	var total int64
	for w := range wm {
		total += wm[w].inserted.Load()
	}
	s.logf("%d keys inserted and deleted by %d writers under %d readers", total, writers, readers)

	// Quiescent: exactly each writer's window of live keys is present.
	live := 0
	for w := range wm {
		lo, hi := wm[w].deleted.Load(), wm[w].inserted.Load()
		live += int(hi - lo)
		for seq := max(0, lo-2*churnWindow); seq < hi+churnWindow; seq++ {
			k := key(w, seq)
			v, ok := m.Load(k)
			if want := seq >= lo && seq < hi; ok != want || (ok && v != valueFor(k, 1)) || (!ok && v != 0) {
				s.errorf("after the writers: Load(%d) = (%#x, %t), want present %t (writer %d's key #%d; its live keys #%d to #%d)",
					k, v, ok, want, w, seq, lo, hi-1)
			}
		}
	}
	if bad := churnRange(m, wm, owner); bad != "" {
		s.errorf("after the writers: %s", bad)
	}
	if seen, _ := rangeOnce(m); len(seen) != live {
		s.errorf("after the writers: Range visited %d keys, want the %d live ones", len(seen), live)
	}
}

// churnRange ranges over m once under the churn writers of wm, checking
// that it visits no key twice, no key that was absent for the whole call,
// and every key that was present for the whole call.
func churnRange(m Map, wm []marks, owner func(uint64) (int, int64, bool)) string {
	before := make([]*marks, len(wm))
	for w := range wm {
		before[w] = wm[w].snapshot()
	}
	seen, bad := rangeOnce(m)
	if bad != "" {
		return bad
	}
	after := make([]*marks, len(wm))
	for w := range wm {
		after[w] = wm[w].snapshot()
	}
	visited := make([]map[int64]bool, len(wm))
	for w := range visited {
		visited[w] = make(map[int64]bool)
	}
	for k := range seen {
		w, seq, ok := owner(k)
		if !ok {
			return fmt.Sprintf("Range visited key %d, which was never stored", k)
		}
		if _, absent := sure(seq, before[w], after[w]); absent {
			return fmt.Sprintf("Range visited key %d (writer %d's #%d), which was absent for the whole Range (watermarks before %s, after %s)",
				k, w, seq, before[w], after[w])
		}
		visited[w][seq] = true
	}
	for w := range wm {
		for seq := after[w].delStarted.Load(); seq < before[w].inserted.Load(); seq++ {
			if !visited[w][seq] {
				return fmt.Sprintf("Range missed writer %d's key #%d, which was present for the whole Range (watermarks before %s, after %s)",
					w, seq, before[w], after[w])
			}
		}
	}
	return ""
}

// String formats the watermarks for messages.
func (m *marks) String() string {
	return fmt.Sprintf("{insert begun <%d, returned <%d; delete begun <%d, returned <%d}",
		m.insStarted.Load(), m.inserted.Load(), m.delStarted.Load(), m.deleted.Load())
}
