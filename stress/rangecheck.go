package stress

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// Range under writers: one map holds a stable set of keys that nobody
// touches, a set of keys that togglers keep deleting, reinserting and
// overwriting, and waves of fresh keys that bulk writers insert and then
// delete in order (growing and shrinking the table under the Range),
// publishing watermarks as the churn writers do. Rangers check every Range:
// no key twice, no key that was never stored or was absent for the whole
// call, every stable key with its value, every bulk key present for the
// whole call; and a Range stopped early must not call f again after f
// returned false.

const (
	rangeStable  = 256
	rangeToggled = 256
	rangeWave    = 512     // keys per bulk writer's wave
	rangeBulkOff = 1 << 20 // bulk keys start at base+rangeBulkOff
)

func rangeUnderWriters(s *state, newMap func() Map) {
	g := s.cfg.goroutines
	togglers, bulkers := max(1, g/4), max(1, g/4)
	rangers := max(1, g-togglers-bulkers)
	m := newMap()
	base := s.rng().Uint64N(1 << 40)
	stableKey := func(i int) uint64 { return base + uint64(i) }
	toggledKey := func(i int) uint64 { return base + rangeStable + uint64(i) }
	bulkKey := func(b int, seq int64) uint64 { return base + rangeBulkOff + uint64(seq)*uint64(bulkers) + uint64(b) }
	for i := range rangeStable {
		m.Store(stableKey(i), valueFor(stableKey(i), 1))
	}
	toggled := make([]uint64, rangeToggled) // toggled[i]: value of toggledKey(i), 0 if absent; valid after the writers
	wm := make([]marks, bulkers)

	var writing atomic.Int32
	writing.Store(int32(togglers + bulkers))
	grp := s.group()
	for t := range togglers {
		grp.Go(func() {
			defer writing.Add(-1)
			rng := s.rng(0, uint64(t))
			for n, ver := 0, uint32(1); n%16 != 0 || !s.expired(); n++ {
				i := t + togglers*rng.IntN((rangeToggled-t+togglers-1)/togglers)
				k := toggledKey(i)
				ver++
				switch rng.IntN(6) {
				case 0:
					toggled[i] = valueFor(k, ver)
					m.Store(k, toggled[i])
				case 1:
					toggled[i] = valueFor(k, ver)
					m.Swap(k, toggled[i])
				case 2:
					if a, _ := m.LoadOrStore(k, valueFor(k, ver)); toggled[i] == 0 {
						toggled[i] = a
					}
				case 3:
					toggled[i] = 0
					m.Delete(k)
				case 4:
					toggled[i] = 0
					m.LoadAndDelete(k)
				default:
					if m.CompareAndDelete(k, toggled[i]) {
						toggled[i] = 0
					}
				}
			}
		})
	}
	for b := range bulkers {
		grp.Go(func() {
			defer writing.Add(-1)
			rng := s.rng(1, uint64(b))
			mk := &wm[b]
			var lo, hi int64 // live keys: lo <= seq < hi
			growing := true
			for n := 0; n%16 != 0 || !s.expired(); n++ {
				if growing && hi-lo == rangeWave || !growing && lo == hi {
					growing = !growing
				}
				if growing {
					k := bulkKey(b, hi)
					mk.insStarted.Store(hi + 1)
					if bad := insertAbsent(m, rng, k, valueFor(k, 1)); bad != "" {
						s.errorf("bulk writer %d, inserting its new key %d: %s", b, k, bad)
						return
					}
					hi++
					mk.inserted.Store(hi)
					continue
				}
				k := bulkKey(b, lo)
				mk.delStarted.Store(lo + 1)
				if bad := deletePresent(m, rng, k, valueFor(k, 1)); bad != "" {
					s.errorf("bulk writer %d, deleting its key %d: %s", b, k, bad)
					return
				}
				lo++
				mk.deleted.Store(lo)
			}
		})
	}
	// check ranges over m once, fully or stopping early, and describes the
	// first violation it finds.
	check := func(rng *rand.Rand) string {
		if rng.IntN(4) == 0 {
			stop := 1 + rng.IntN(rangeStable)
			calls := 0
			m.Range(func(k, v uint64) bool {
				calls++
				return calls < stop
			})
			if calls != stop {
				return fmt.Sprintf("Range called f %d times, though f returned false on call %d and the map has at least %d keys",
					calls, stop, rangeStable)
			}
			return ""
		}
		before := make([]*marks, bulkers)
		for b := range wm {
			before[b] = wm[b].snapshot()
		}
		seen, bad := rangeOnce(m)
		if bad != "" {
			return bad
		}
		after := make([]*marks, bulkers)
		for b := range wm {
			after[b] = wm[b].snapshot()
		}
		bulk := make([]map[int64]bool, bulkers)
		for b := range bulk {
			bulk[b] = make(map[int64]bool)
		}
		for k, v := range seen {
			switch off := k - base; {
			case k < base || (off >= rangeStable+rangeToggled && off < rangeBulkOff):
				return fmt.Sprintf("Range visited key %d, which was never stored", k)
			case off < rangeStable:
				if v != valueFor(k, 1) {
					return fmt.Sprintf("Range visited stable key %d with value %#x, want %#x", k, v, valueFor(k, 1))
				}
			case off >= rangeBulkOff:
				b, seq := int((off-rangeBulkOff)%uint64(bulkers)), int64((off-rangeBulkOff)/uint64(bulkers))
				if _, absent := sure(seq, before[b], after[b]); absent {
					return fmt.Sprintf("Range visited bulk key %d (writer %d's #%d), which was absent for the whole Range (watermarks before %s, after %s)",
						k, b, seq, before[b], after[b])
				}
				bulk[b][seq] = true
			}
		}
		for i := range rangeStable {
			if _, ok := seen[stableKey(i)]; !ok {
				return fmt.Sprintf("Range missed stable key %d, which was present all along", stableKey(i))
			}
		}
		for b := range bulk {
			for seq := after[b].delStarted.Load(); seq < before[b].inserted.Load(); seq++ {
				if !bulk[b][seq] {
					return fmt.Sprintf("Range missed bulk key %d (writer %d's #%d), which was present for the whole Range (watermarks before %s, after %s)",
						bulkKey(b, seq), b, seq, before[b], after[b])
				}
			}
		}
		return ""
	}
	var ranges atomic.Int64
	for r := range rangers {
		grp.Go(func() {
			rng := s.rng(2, uint64(r))
			for writing.Load() > 0 && !s.stopped() {
				ranges.Add(1)
				if bad := check(rng); bad != "" {
					s.errorf("ranger %d: %s", r, bad)
					return
				}
			}
		})
	}
	grp.Wait()
	if s.stopped() {
		return
	}

	s.logf("%d Range calls checked under %d togglers and %d bulk writers", ranges.Load(), togglers, bulkers)

	// Quiescent: a Range must visit exactly what the writers left.
	if bad := check(s.rng(3)); bad != "" {
		s.errorf("after the writers: %s", bad)
		return
	}
	seen, _ := rangeOnce(m)
	want := rangeStable
	for i, v := range toggled {
		k := toggledKey(i)
		if got, ok := seen[k]; got != v || ok != (v != 0) {
			s.errorf("after the writers: Range visited toggled key %d: (%#x, %t), want (%#x, %t)", k, got, ok, v, v != 0)
		}
		if v != 0 {
			want++
		}
	}
	for b := range wm {
		want += int(wm[b].inserted.Load() - wm[b].deleted.Load())
	}
	if len(seen) != want {
		s.errorf("after the writers: Range visited %d keys, want %d", len(seen), want)
	}
}
