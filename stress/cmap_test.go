package stress

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
	"github.com/segmap/segmap/snapshot"
)

// The cmap suites: Run on cmap.Map under several configurations, and the
// scenarios for what only cmap has (Compute, LoadOrCompute, Snapshot,
// All/Keys/Values), with the same seeds, budget, failure reports and leak
// checks as Run's own.

var _ Map = (*cmap.Map[uint64, uint64])(nil)

// evictions counts the calls of the OnEvict function of the
// evict-oldest-unreached configuration, whose bound is never reached: it
// must stay 0.
var evictions atomic.Int64

// cmapConfigs are the configurations the suites run cmap under. TestCmap
// runs the first for Run's default Duration and the others for
// cmapShortDuration each; TestSoak runs them all as long as it is asked.
var cmapConfigs = []struct {
	name string
	opts []cmap.Option
	// noRebuild is set where the scenarios need not rebuild a table: a
	// RejectNew map is laid out once for its bound.
	noRebuild bool
	// ciOpts, if set, replace opts in TestCmap and TestCmapOnly (TestSoak
	// uses opts).
	ciOpts []cmap.Option
}{
	{name: "default"},
	// One segment: a single table that every write contends for and that
	// is rebuilt over and over as it grows, fills with tombstones and
	// shrinks.
	{name: "one-segment", opts: []cmap.Option{cmap.WithSegments(1)}},
	// A hash of 256 values: long probe sequences, keys of one hash spread
	// over many groups, the probe path and tombstones under pressure.
	{name: "low-bits-hash", opts: []cmap.Option{cmap.WithHasher(func(_, k uint64) uint64 { return k & 0xff })}},
	// The insertion-order log beside every write.
	{name: "insertion-order", opts: []cmap.Option{cmap.WithInsertionOrder()}},
	// Bounds never reached: the bounded write paths, which must then
	// behave exactly as sync.Map does.
	{name: "evict-oldest-unreached", opts: []cmap.Option{
		cmap.WithMaxLen(1<<20, cmap.EvictOldest),
		cmap.WithOnEvict(func(uint64, uint64) { evictions.Add(1) }),
	}},
	// A RejectNew map lays its tables out for the bound at New and at each
	// Clear: for 1<<20 entries that takes over a second under -race, and
	// the scenarios make maps and Clear by the hundred. The CI run uses
	// a bound of 1<<15, which the scenarios do not reach within
	// cmapShortDuration either (a write that reached it would panic with
	// ErrFull and fail the test).
	{name: "reject-new-unreached", opts: []cmap.Option{cmap.WithMaxLen(1<<20, cmap.RejectNew)}, noRebuild: true,
		ciOpts: []cmap.Option{cmap.WithMaxLen(1<<15, cmap.RejectNew)}},
}

// cmapShortDuration is the Duration of TestCmap's configurations after
// the first, to keep the package's tests within a CI budget.
const cmapShortDuration = 200 * time.Millisecond

// cmapMaker makes cmap maps with opts and remembers the first
// cmapMakerKeeps of them, so that a suite can tell how much rebuilding the
// maps did (Stats.Resizes) without holding every map of a long soak.
type cmapMaker struct {
	opts []cmap.Option
	mu   sync.Mutex
	maps []*cmap.Map[uint64, uint64]
}

const cmapMakerKeeps = 256

func (c *cmapMaker) new() *cmap.Map[uint64, uint64] {
	m := cmap.New[uint64, uint64](c.opts...)
	c.mu.Lock()
	if len(c.maps) < cmapMakerKeeps {
		c.maps = append(c.maps, m)
	}
	c.mu.Unlock()
	return m
}

func (c *cmapMaker) newMap() Map { return c.new() }

// resizes sums Stats.Resizes over the maps kept, and forgets them.
func (c *cmapMaker) resizes() (n uint64, maps int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.maps {
		n += m.Stats().Resizes
	}
	maps = len(c.maps)
	c.maps = nil
	return n, maps
}

// TestCmap puts cmap.Map through Run under each configuration.
func TestCmap(t *testing.T) {
	for i, c := range cmapConfigs {
		t.Run(c.name, func(t *testing.T) { runCmap(t, i, ciOptions(i), true) })
	}
	t.Run("boxed", func(t *testing.T) { Run(t, newBoxedCmap, Options{Duration: cmapShortDuration}) })
	t.Run("string-keys", func(t *testing.T) {
		if l := newStringCmap().(stringCmap).m.Stats().Layout; l != "arena" {
			t.Fatalf("layout %q, want arena", l)
		}
		Run(t, newStringCmap, Options{Duration: cmapShortDuration})
	})
}

// ciOptions are the Options of TestCmap and TestCmapOnly for
// cmapConfigs[i]: Run's default for the first, cmapShortDuration for the
// others.
func ciOptions(i int) Options {
	if i == 0 {
		return Options{}
	}
	return Options{Duration: cmapShortDuration}
}

// maker returns a cmapMaker for cmapConfigs[i], with its ciOpts if ci and
// it has some.
func maker(i int, ci bool) *cmapMaker {
	c := cmapConfigs[i]
	if ci && c.ciOpts != nil {
		return &cmapMaker{opts: c.ciOpts}
	}
	return &cmapMaker{opts: c.opts}
}

// runCmap puts cmap under cmapConfigs[i] (with its ciOpts if ci) through
// Run, and checks that it rebuilt tables and evicted nothing.
func runCmap(t *testing.T, i int, opts Options, ci bool) {
	c := cmapConfigs[i]
	mk := maker(i, ci)
	evicted := evictions.Load()
	Run(t, mk.newMap, opts)
	n, maps := mk.resizes()
	t.Logf("%d table rebuilds in the first %d maps", n, maps)
	if n == 0 && !c.noRebuild && !t.Failed() {
		t.Errorf("no table was ever rebuilt: the scenarios did not reach cmap's resize path")
	}
	if e := evictions.Load() - evicted; e != 0 {
		t.Errorf("%d entries evicted from maps bounded at 1<<20 entries, which the scenarios never reach", e)
	}
}

// TestCmapOnly runs the scenarios for cmap's own methods under each
// configuration.
func TestCmapOnly(t *testing.T) {
	for i, c := range cmapConfigs {
		t.Run(c.name, func(t *testing.T) { runCmapOnly(t, maker(i, true), ciOptions(i)) })
	}
}

// cmapScenarios are the scenarios of TestCmapOnly.
var cmapScenarios = []struct {
	name string
	run  func(s *state, mk *cmapMaker)
}{
	{"compute-counters", computeCounters},
	{"load-or-compute-once", loadOrComputeOnce},
	{"snapshots-under-writers", snapshotsUnderWriters},
	{"iterate-under-reinsert", iterateUnderReinsert},
}

// runCmapOnly runs cmapScenarios as subtests of t, the way Run runs its own.
func runCmapOnly(t *testing.T, mk *cmapMaker, opts Options) {
	cfg, err := resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	logRun(t, cfg)
	for _, sc := range cmapScenarios {
		t.Run(sc.name, func(t *testing.T) {
			runScenario(t, sc.name, cfg, func(s *state) { sc.run(s, mk) })
			mk.resizes()
		})
	}
}

// Compute counters: goroutines increment a few keys, each increment either
// a Compute (UpdateOp) or a LoadOrStore and CompareAndSwap loop, so the two
// write paths must exclude each other; some Computes cancel (CancelOp) and,
// in alternate rounds, some take the counter out (DeleteOp) into the
// goroutine's tally. Every Compute must call f exactly once and return what
// its contract says for what f saw; the totals must be exact.
func computeCounters(s *state, mk *cmapMaker) {
	g := s.cfg.goroutines
	round := uint64(0)
	defer func() {
		s.logf("%d rounds of %d goroutines × %d increments on %d keys", round, g, counterOps, counterKeys)
	}()
	for ; !s.expired() || round == 0; round++ {
		m := mk.new()
		harvest := round%2 == 1
		rng := s.rng(round)
		var keys [counterKeys]uint64
		for j := range keys {
			keys[j] = rng.Uint64()
		}
		tallies := make([][counterKeys]int64, g)
		grp := s.group()
		for w := range g {
			grp.Go(func() {
				computeWorker(s, m, s.rng(round, uint64(w)), keys[:], harvest, &tallies[w])
			})
		}
		grp.Wait()
		if s.stopped() {
			return
		}
		for j, k := range keys {
			var total int64
			for w := range tallies {
				total += tallies[w][j]
			}
			if v, ok := m.Load(k); v != uint64(total) || ok != (total > 0) {
				s.errorf("round %d (harvest %t): counter %d = (%d, %t) at the end, want (%d, %t) from the goroutines' tallies",
					round, harvest, k, v, ok, total, total > 0)
			}
		}
		if s.stopped() {
			return
		}
	}
}

func computeWorker(s *state, m *cmap.Map[uint64, uint64], rng *rand.Rand, keys []uint64, harvest bool, tally *[counterKeys]int64) {
	for n := range counterOps {
		if n%16 == 0 && s.expired() {
			return
		}
		j := rng.IntN(len(keys))
		k := keys[j]
		var calls int
		var sawOld uint64
		var sawLoaded bool
		var what string
		switch x := rng.IntN(16); {
		case x < 7:
			what = "an UpdateOp increment"
			actual, ok := m.Compute(k, func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
				calls++
				sawOld, sawLoaded = old, loaded
				if rng.IntN(8) == 0 {
					runtime.Gosched() // f runs under the segment lock: others must wait, not interleave
				}
				return old + 1, cmap.UpdateOp
			})
			if want := sawOld + 1; actual != want || !ok {
				s.errorf("counter %d: Compute with %s on (%d, %t) returned (%d, %t), want (%d, true)", k, what, sawOld, sawLoaded, actual, ok, want)
				return
			}
			tally[j]++
		case x < 9:
			what = "a CancelOp"
			actual, ok := m.Compute(k, func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
				calls++
				sawOld, sawLoaded = old, loaded
				return old + 100, cmap.CancelOp
			})
			if actual != sawOld || ok != sawLoaded {
				s.errorf("counter %d: Compute with %s on (%d, %t) returned (%d, %t), want (%d, %t)", k, what, sawOld, sawLoaded, actual, ok, sawOld, sawLoaded)
				return
			}
		case x < 10 && harvest:
			what = "a DeleteOp"
			actual, ok := m.Compute(k, func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
				calls++
				sawOld, sawLoaded = old, loaded
				return 0, cmap.DeleteOp
			})
			if actual != sawOld || ok {
				s.errorf("counter %d: Compute with %s on (%d, %t) returned (%d, %t), want (%d, false)", k, what, sawOld, sawLoaded, actual, ok, sawOld)
				return
			}
			tally[j] -= int64(sawOld)
		default:
			what = "a CompareAndSwap increment"
			calls = 1
			for spin := 0; ; spin++ {
				if spin == counterSpin {
					s.errorf("counter %d: %d CompareAndSwap increments in a row failed: no progress", k, spin)
					return
				}
				v, loaded := m.LoadOrStore(k, 1)
				if !loaded {
					break
				}
				if rng.IntN(4) == 0 {
					runtime.Gosched()
				}
				if m.CompareAndSwap(k, v, v+1) {
					break
				}
			}
			tally[j]++
		}
		if calls != 1 {
			s.errorf("counter %d: Compute with %s called f %d times, want exactly once", k, what, calls)
			return
		}
	}
}

// LoadOrCompute once: goroutines all ask LoadOrCompute for the same fresh
// keys at once, in their own random orders; f must run exactly once per
// key, exactly one caller must get loaded false, and every caller the value
// that f returned. Meanwhile the previous round's keys are deleted from the
// same map, so segments rebuild under the callers.
func loadOrComputeOnce(s *state, mk *cmapMaker) {
	const n = 512
	g := s.cfg.goroutines
	m := mk.new()
	base := s.rng().Uint64N(1 << 40)
	round := uint64(0)
	defer func() { s.logf("%d rounds of %d goroutines asking for %d fresh keys", round, g, n) }()
	for ; !s.expired() || round == 0; round++ {
		key := func(i int) uint64 { return base + round*n + uint64(i) }
		var calls, computed [n]atomic.Int32
		start := make(chan struct{})
		grp := s.group()
		for w := range g {
			grp.Go(func() {
				rng := s.rng(round, uint64(w))
				order := rng.Perm(n)
				<-start
				for _, i := range order {
					k := key(i)
					v, loaded := m.LoadOrCompute(k, func() uint64 {
						calls[i].Add(1)
						if rng.IntN(8) == 0 {
							runtime.Gosched()
						}
						return valueFor(k, 1)
					})
					if !loaded {
						computed[i].Add(1)
					}
					if v != valueFor(k, 1) {
						s.errorf("round %d: LoadOrCompute(%d) = (%#x, %t), want %#x", round, k, v, loaded, valueFor(k, 1))
						return
					}
				}
			})
		}
		if round > 0 {
			grp.Go(func() {
				for i := range n {
					k := base + (round-1)*n + uint64(i)
					if v, ok := m.LoadAndDelete(k); !ok || v != valueFor(k, 1) {
						s.errorf("round %d: LoadAndDelete(%d) of a key of the last round = (%#x, %t), want (%#x, true)", round, k, v, ok, valueFor(k, 1))
						return
					}
				}
			})
		}
		close(start)
		grp.Wait()
		if s.stopped() {
			return
		}
		for i := range n {
			if c, w := calls[i].Load(), computed[i].Load(); c != 1 || w != 1 {
				s.errorf("round %d: key %d: LoadOrCompute called f %d times and returned loaded false %d times, want once each",
					round, key(i), c, w)
				return
			}
		}
	}
}

// Snapshots under writers: each writer owns a group of keys, all present,
// and rewrites them in order, round after round, so that at any instant
// the group reads (r, ..., r, r-1, ..., r-1) for some r: a prefix of the
// keys at the current round and the rest at the one before. Churn writers
// insert and delete other keys with watermarks. Every snapshot must show
// each group as such a prefix of rounds (it is one instant for all
// segments), no group older than in an earlier snapshot, every churn key
// present for the whole Snapshot call and none absent for it; Len must
// equal the count of All, Keys and Values, with All and Load agreeing.
// Some snapshots are kept and read again once the writers are done: they
// must not have changed.
func snapshotsUnderWriters(s *state, mk *cmapMaker) {
	const groupSize = 32
	g := s.cfg.goroutines
	writers := max(1, g/4)
	churners := max(1, g/4)
	snappers := max(1, g-writers-churners)
	m := mk.new()
	base := s.rng().Uint64N(1 << 40)
	groupKey := func(w, i int) uint64 { return base + uint64(w*groupSize+i) }
	churnBase := base + 1<<20
	churnKey := func(c int, seq int64) uint64 { return churnBase + uint64(seq)*uint64(churners) + uint64(c) }
	// round decodes a group key's value: the round that wrote it.
	round := func(k, v uint64) (int64, bool) { return int64(uint32(v)) - 1, belongs(k, v) }
	for w := range writers {
		for i := range groupSize {
			m.Store(groupKey(w, i), valueFor(groupKey(w, i), 1))
		}
	}
	wm := make([]marks, churners)

	var writing atomic.Int32
	writing.Store(int32(writers + churners))
	grp := s.group()
	for w := range writers {
		grp.Go(func() {
			defer writing.Add(-1)
			rng := s.rng(0, uint64(w))
			for r := uint32(1); !s.expired(); r++ {
				for i := range groupSize {
					k := groupKey(w, i)
					prev, next := valueFor(k, r), valueFor(k, r+1)
					var bad string
					switch rng.IntN(4) {
					case 0:
						m.Store(k, next)
					case 1:
						if p, ok := m.Swap(k, next); p != prev || !ok {
							bad = fmt.Sprintf("Swap = (%#x, %t), want (%#x, true)", p, ok, prev)
						}
					case 2:
						if !m.CompareAndSwap(k, prev, next) {
							bad = fmt.Sprintf("CompareAndSwap(%#x, %#x) = false on the writer's own key", prev, next)
						}
					default:
						a, ok := m.Compute(k, func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
							if old != prev || !loaded {
								return old, cmap.CancelOp
							}
							return next, cmap.UpdateOp
						})
						if a != next || !ok {
							bad = fmt.Sprintf("Compute = (%#x, %t), want (%#x, true)", a, ok, next)
						}
					}
					if bad != "" {
						s.errorf("group writer %d, key %d, round %d: %s", w, k, r, bad)
						return
					}
				}
			}
		})
	}
	for c := range churners {
		grp.Go(func() {
			defer writing.Add(-1)
			rng := s.rng(1, uint64(c))
			mark := &wm[c]
			var lo, hi int64
			for n := 0; n%16 != 0 || !s.expired(); n++ {
				k := churnKey(c, hi)
				mark.insStarted.Store(hi + 1)
				if bad := insertAbsent(m, rng, k, valueFor(k, 1)); bad != "" {
					s.errorf("churn writer %d, inserting its new key %d: %s", c, k, bad)
					return
				}
				hi++
				mark.inserted.Store(hi)
				if hi-lo > 4*churnWindow {
					k := churnKey(c, lo)
					mark.delStarted.Store(lo + 1)
					if bad := deletePresent(m, rng, k, valueFor(k, 1)); bad != "" {
						s.errorf("churn writer %d, deleting its key %d: %s", c, k, bad)
						return
					}
					lo++
					mark.deleted.Store(lo)
				}
			}
		})
	}

	// kept are snapshots to read again at the end, with what they held.
	type keptSnap struct {
		snap *snapshot.Snapshot[uint64, uint64]
		all  map[uint64]uint64
	}
	var keptMu sync.Mutex
	var kept []keptSnap
	var taken atomic.Int64
	// check checks one snapshot, taken between the watermarks before and
	// after; it returns the snapshot's contents and each group's rounds.
	check := func(snap *snapshot.Snapshot[uint64, uint64], before, after []*marks, last [][]int64) (map[uint64]uint64, string) {
		all := make(map[uint64]uint64, snap.Len())
		for k, v := range snap.All() {
			if _, dup := all[k]; dup {
				return nil, fmt.Sprintf("All visited key %d twice", k)
			}
			if !belongs(k, v) {
				return nil, fmt.Sprintf("All visited key %d with value %#x, never stored under it", k, v)
			}
			all[k] = v
		}
		if len(all) != snap.Len() {
			return nil, fmt.Sprintf("Len() = %d, but All visited %d keys", snap.Len(), len(all))
		}
		keys, values := 0, 0
		for range snap.Keys() {
			keys++
		}
		for range snap.Values() {
			values++
		}
		if keys != len(all) || values != len(all) {
			return nil, fmt.Sprintf("All visited %d keys, Keys %d, Values %d", len(all), keys, values)
		}
		for w := range writers {
			rounds := make([]int64, groupSize)
			for i := range groupSize {
				k := groupKey(w, i)
				v, ok := snap.Load(k)
				if a, inAll := all[k]; !ok || !inAll || a != v {
					return nil, fmt.Sprintf("group key %d: Load = (%#x, %t), All saw %#x (%t); want the same value, present", k, v, ok, a, inAll)
				}
				r, good := round(k, v)
				if !good {
					return nil, fmt.Sprintf("group key %d holds %#x, never stored under it", k, v)
				}
				rounds[i] = r
			}
			if rounds[0] < rounds[groupSize-1] || rounds[0]-rounds[groupSize-1] > 1 || !slices.IsSortedFunc(rounds, func(a, b int64) int { return int(b - a) }) {
				return nil, fmt.Sprintf("group %d is not a prefix of rounds, so the snapshot is not one instant: rounds by key %v", w, rounds)
			}
			if last != nil && last[w] != nil {
				for i := range rounds {
					if rounds[i] < last[w][i] {
						return nil, fmt.Sprintf("group %d went back in time since this goroutine's previous snapshot: rounds %v, before %v", w, rounds, last[w])
					}
				}
			}
			if last != nil {
				last[w] = rounds
			}
		}
		for c := range churners {
			for seq := max(0, before[c].deleted.Load()-churnWindow); seq < after[c].insStarted.Load()+churnWindow; seq++ {
				k := churnKey(c, seq)
				v, ok := snap.Load(k)
				present, absent := sure(seq, before[c], after[c])
				switch {
				case ok && v != valueFor(k, 1):
					return nil, fmt.Sprintf("churn key %d holds %#x, want %#x", k, v, valueFor(k, 1))
				case present && !ok:
					return nil, fmt.Sprintf("churn key %d (writer %d's #%d) is missing, but was present for the whole Snapshot call (watermarks before %s, after %s)",
						k, c, seq, before[c], after[c])
				case absent && ok:
					return nil, fmt.Sprintf("churn key %d (writer %d's #%d) is in it, but was absent for the whole Snapshot call (watermarks before %s, after %s)",
						k, c, seq, before[c], after[c])
				}
				if _, inAll := all[k]; inAll != ok {
					return nil, fmt.Sprintf("churn key %d: Load found it %t, All %t", k, ok, inAll)
				}
			}
		}
		return all, ""
	}
	for r := range snappers {
		grp.Go(func() {
			rng := s.rng(2, uint64(r))
			last := make([][]int64, writers)
			for writing.Load() > 0 && !s.stopped() {
				before := make([]*marks, churners)
				for c := range wm {
					before[c] = wm[c].snapshot()
				}
				snap := m.Snapshot()
				after := make([]*marks, churners)
				for c := range wm {
					after[c] = wm[c].snapshot()
				}
				taken.Add(1)
				if rng.IntN(4) == 0 {
					runtime.Gosched() // let the writers copy the frozen tables before we read them
				}
				all, bad := check(snap, before, after, last)
				if bad != "" {
					s.errorf("snapshotter %d: %s", r, bad)
					return
				}
				if rng.IntN(16) == 0 {
					keptMu.Lock()
					if len(kept) < 16 {
						kept = append(kept, keptSnap{snap, all})
					}
					keptMu.Unlock()
				}
			}
		})
	}
	grp.Wait()
	if s.stopped() {
		return
	}
	s.logf("%d snapshots checked under %d group writers and %d churn writers; %d read again at the end",
		taken.Load(), writers, churners, len(kept))

	// Write some more, then read the kept snapshots again.
	for w := range writers {
		for i := range groupSize {
			m.Delete(groupKey(w, i))
		}
	}
	for i, ks := range kept {
		again := make(map[uint64]uint64)
		for k, v := range ks.snap.All() {
			again[k] = v
		}
		if ks.snap.Len() != len(ks.all) || !mapsEqual(again, ks.all) {
			s.errorf("kept snapshot %d changed after it was taken: Len %d, All %d keys, at first %d keys", i, ks.snap.Len(), len(again), len(ks.all))
			return
		}
		for k, v := range ks.all {
			if got, ok := ks.snap.Load(k); got != v || !ok {
				s.errorf("kept snapshot %d changed after it was taken: Load(%d) = (%#x, %t), at first %#x", i, k, got, ok, v)
				return
			}
		}
	}
	// Quiescent: a snapshot must equal the map.
	snap := m.Snapshot()
	want := make(map[uint64]uint64)
	m.Range(func(k, v uint64) bool { want[k] = v; return true })
	got := make(map[uint64]uint64)
	for k, v := range snap.All() {
		got[k] = v
	}
	if !mapsEqual(got, want) || snap.Len() != len(want) || m.Len() != len(want) {
		s.errorf("after the writers: the snapshot holds %d keys (Len %d), the map %d (Len %d), or their contents differ",
			len(got), snap.Len(), len(want), m.Len())
	}
}

func mapsEqual(a, b map[uint64]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Iterate under reinsert: writers keep deleting keys and reinserting the
// same keys (through Delete and Store, LoadAndDelete and LoadOrStore, or
// Compute), which piles tombstones up and rebuilds tables under the
// iterators, and now and then take a snapshot, which freezes tables that
// the next write must copy. Iterators (Range, All, Keys; some of them
// deleting and reinserting the very key they were just given, which Range
// allows) must never yield a key twice, must yield every stable key, and
// must yield only keys that were stored.
func iterateUnderReinsert(s *state, mk *cmapMaker) {
	const stable, churned = 256, 512
	g := s.cfg.goroutines
	writers := max(1, g/2)
	iterators := max(1, g-writers)
	m := mk.new()
	base := s.rng().Uint64N(1 << 40)
	for i := range stable + churned {
		k := base + uint64(i)
		m.Store(k, valueFor(k, 1))
	}
	var writing atomic.Int32
	writing.Store(int32(writers))
	grp := s.group()
	for w := range writers {
		grp.Go(func() {
			defer writing.Add(-1)
			rng := s.rng(0, uint64(w))
			for n := 0; n%16 != 0 || !s.expired(); n++ {
				k := base + stable + uint64(rng.IntN(churned))
				v := valueFor(k, 1)
				switch rng.IntN(64) {
				case 0:
					m.Snapshot()
				case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20:
					m.Delete(k)
					m.Store(k, v)
				case 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40:
					m.LoadAndDelete(k)
					m.LoadOrStore(k, v)
				default:
					m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { return 0, cmap.DeleteOp })
					m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { return v, cmap.UpdateOp })
				}
			}
		})
	}
	var iterations atomic.Int64
	for it := range iterators {
		grp.Go(func() {
			rng := s.rng(1, uint64(it))
			for writing.Load() > 0 && !s.stopped() {
				iterations.Add(1)
				seen := make(map[uint64]bool, stable+churned)
				var bad string
				visit := func(how string, k uint64) bool {
					if seen[k] {
						bad = fmt.Sprintf("%s yielded key %d twice in one iteration", how, k)
						return false
					}
					if k < base || k >= base+stable+churned {
						bad = fmt.Sprintf("%s yielded key %d, which was never stored", how, k)
						return false
					}
					seen[k] = true
					return true
				}
				reinsert := rng.IntN(4) == 0
				switch how := rng.IntN(3); how {
				case 0:
					m.Range(func(k, v uint64) bool {
						if reinsert && k >= base+stable && rng.IntN(4) == 0 {
							m.Delete(k)
							m.Store(k, valueFor(k, 1))
						}
						return visit("Range", k)
					})
				case 1:
					for k := range m.All() {
						if !visit("All", k) {
							break
						}
					}
				default:
					for k := range m.Keys() {
						if !visit("Keys", k) {
							break
						}
					}
				}
				if bad == "" {
					for i := range stable {
						if !seen[base+uint64(i)] {
							bad = fmt.Sprintf("an iteration missed the stable key %d, present all along", base+uint64(i))
							break
						}
					}
				}
				if bad != "" {
					s.errorf("iterator %d: %s", it, bad)
					return
				}
			}
		})
	}
	grp.Wait()
	s.logf("%d iterations checked under %d writers", iterations.Load(), writers)
}
