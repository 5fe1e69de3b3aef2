package cmap_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// Tests of group-lock writes (grouplock.go): flat maps without options
// write under the lock of the groups they change, and whole-table
// operations seal the table and wait for those locks.

// noGroupLocks fails unless m writes with group locks and none is held.
func noGroupLocks(t *testing.T, m *cmap.Map[uint64, uint64]) {
	t.Helper()
	on, locked := m.GroupLocks()
	if !on {
		t.Fatal("the map does not write with group locks: the test proves nothing")
	}
	for i, l := range locked {
		if len(l) != 0 {
			t.Fatalf("segment %d: groups %v left locked", i, l)
		}
	}
}

// stallWriter starts a Store of key that stalls once it holds its group
// locks, until release is closed; it returns when the writer is stalled,
// and done is closed when the Store returned. The caller clears the hook.
func stallWriter(m *cmap.Map[uint64, uint64], key, value uint64) (release, done chan struct{}) {
	inside := make(chan struct{})
	release, done = make(chan struct{}), make(chan struct{})
	cmap.SetGroupLockedHook(func(k any) {
		if k == any(key) {
			close(inside)
			<-release
		}
	})
	go func() {
		defer close(done)
		m.Store(key, value)
	}()
	<-inside
	return release, done
}

// TestGroupLockStalledWriter: a writer stalls holding its group locks
// while a rebuild (Reserve), a Snapshot or a Clear is requested. The
// operation waits for it (the sealer reports that it waits, and does not
// finish first), readers do not wait (Loads of other keys and of the
// stalled key, absent, complete meanwhile), and nothing is lost: the
// stalled Store lands before the operation (in the rebuilt table, in the
// snapshot, or cleared).
func TestGroupLockStalledWriter(t *testing.T) {
	for _, op := range []string{"rebuild", "Snapshot", "Clear"} {
		t.Run(op, func(t *testing.T) {
			m := cmap.New[uint64, uint64](cmap.WithSegments(1))
			const n = 100
			for k := range uint64(n) {
				m.Store(k, k)
			}
			noGroupLocks(t, m)
			waiting := make(chan struct{}, 1)
			cmap.SetSealWaitHook(func() {
				select {
				case waiting <- struct{}{}:
				default:
				}
			})
			defer cmap.SetSealWaitHook(nil)
			release, stalled := stallWriter(m, 1000, 1)
			defer cmap.SetGroupLockedHook(nil)
			for k := range uint64(n) { // readers never wait
				if v, ok := m.Load(k); !ok || v != k {
					t.Fatalf("Load(%d) = %d, %v during the stall", k, v, ok)
				}
			}
			if _, ok := m.Load(1000); ok {
				t.Fatal("the stalled Store is visible before it writes")
			}
			var snapLen, snapCount int
			var snapHas bool
			finished := make(chan struct{})
			go func() {
				defer close(finished)
				switch op {
				case "rebuild":
					m.Reserve(10 * n)
				case "Snapshot":
					s := m.Snapshot()
					snapLen = s.Len()
					for k := range s.All() {
						snapCount++
						snapHas = snapHas || k == 1000
					}
				case "Clear":
					m.Clear()
				}
			}()
			select {
			case <-waiting:
			case <-finished:
				close(release)
				<-stalled
				t.Fatalf("%s finished while a writer held a group lock", op)
			}
			close(release)
			<-stalled
			<-finished
			noGroupLocks(t, m)
			check(t, m)
			switch op {
			case "rebuild":
				if got := m.Len(); got != n+1 {
					t.Fatalf("Len after the rebuild = %d, want %d", got, n+1)
				}
				if v, ok := m.Load(1000); !ok || v != 1 {
					t.Fatalf("the stalled Store was lost by the rebuild: %d, %v", v, ok)
				}
			case "Snapshot":
				if !snapHas || snapLen != n+1 || snapCount != n+1 {
					t.Fatalf("snapshot: Len %d, %d entries, stalled key %v; want %d, %d, true", snapLen, snapCount, snapHas, n+1, n+1)
				}
				m.Store(2000, 2) // copies the frozen table
				if v, ok := m.Load(2000); !ok || v != 2 {
					t.Fatal("Store after the snapshot lost")
				}
			case "Clear":
				if got := m.Len(); got != 0 {
					t.Fatalf("Len after Clear = %d: the stalled Store came after it", got)
				}
			}
			check(t, m)
		})
	}
}

// TestGroupLockInsertPastHome: an insert whose home group is full goes
// into the next group, which it must lock: a writer of that group's own
// keys, inserting meanwhile, must not take the same free slot. The first
// writer stalls holding its locks; the second runs meanwhile; both keys
// must be there afterwards.
func TestGroupLockInsertPastHome(t *testing.T) {
	m := cmap.New[uint64, uint64](cmap.WithSegments(1), cmap.WithCapacity(40))
	groups := uint64(m.TableGroups()[0])
	if groups < 2 {
		t.Fatalf("%d groups", groups)
	}
	// Keys by home group (with one segment: hash & (groups-1)).
	var home0 []uint64
	y := uint64(0)
	for k := uint64(1); len(home0) < 8 || y == 0; k++ {
		switch m.HashOf(k) & (groups - 1) {
		case 0:
			home0 = append(home0, k)
		case 1:
			y = k
		}
	}
	for _, k := range home0[:7] { // fill group 0 (7 slots)
		m.Store(k, k)
	}
	x := home0[7] // home group 0: goes into group 1
	release, stalled := stallWriter(m, x, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		cmap.SetGroupLockedHook(nil) // (set before the stall's key matched)
		m.Store(y, 2)
	}()
	for range 100 {
		runtime.Gosched()
	}
	time.Sleep(10 * time.Millisecond) // room for y's Store to run, were it not blocked
	close(release)
	<-stalled
	<-done
	cmap.SetGroupLockedHook(nil)
	noGroupLocks(t, m)
	for _, k := range []uint64{x, y} {
		if _, ok := m.Load(k); !ok {
			t.Fatalf("key %d lost: two inserts took one slot", k)
		}
	}
	if got := m.Len(); got != 9 {
		t.Fatalf("Len = %d, want 9", got)
	}
	check(t, m)
}

// TestGroupLockSameKeyInserts: goroutines insert the same keys at once
// (Store, LoadOrStore, Compute); no key is ever stored twice (the home
// group's lock owns the key).
func TestGroupLockSameKeyInserts(t *testing.T) {
	rounds := 200
	if testing.Short() {
		rounds = 50
	}
	for r := range rounds {
		m := cmap.New[uint64, uint64](cmap.WithSegments(1), cmap.WithHasher(func(_ uint64, k uint64) uint64 { return k % 3 }))
		const keys, workers = 12, 4
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for k := range uint64(keys) {
					switch (w + r) % 3 {
					case 0:
						m.Store(k, k)
					case 1:
						m.LoadOrStore(k, k)
					default:
						m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { return k, cmap.UpdateOp })
					}
				}
			})
		}
		wg.Wait()
		if got := m.Len(); got != keys {
			t.Fatalf("round %d: Len = %d, want %d: a key stored twice", r, got, keys)
		}
		n := 0
		m.Range(func(uint64, uint64) bool { n++; return true })
		if n != keys {
			t.Fatalf("round %d: %d entries, want %d", r, n, keys)
		}
		check(t, m)
	}
}

// TestGroupLockWritersVsModel: writers race over the whole of a small,
// crowded table (keys aimed at few groups, so probes cross groups and
// inserts go past their home), each on its own keys, with every kind of
// write, while Snapshot, Range, Stats and Reserve seal the table and
// rebuilds grow and shrink it. Each writer's model must match the map at
// the end.
func TestGroupLockWritersVsModel(t *testing.T) {
	ops := 4000
	if testing.Short() {
		ops = 1500
	}
	const workers = 4
	// Few distinct hashes: long probes across groups, inserts past home.
	m := cmap.New[uint64, uint64](cmap.WithSegments(1), cmap.WithHasher(func(_ uint64, k uint64) uint64 { return k % 11 }))
	models := make([]map[uint64]uint64, workers)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			switch i % 4 {
			case 0:
				m.Snapshot().Len()
			case 1:
				m.Range(func(uint64, uint64) bool { return true })
			case 2:
				m.Stats()
			case 3:
				m.Reserve(i % 64)
			}
			runtime.Gosched()
		}
	})
	for w := range workers {
		model := map[uint64]uint64{}
		models[w] = model
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range ops {
				k := uint64(r.IntN(40)*workers + w)
				v := uint64(i)
				switch r.IntN(7) {
				case 0:
					m.Store(k, v)
					model[k] = v
				case 1:
					m.Delete(k)
					delete(model, k)
				case 2:
					old, ok := m.Swap(k, v)
					if mv, mok := model[k]; ok != mok || old != mv {
						t.Errorf("Swap(%d) = %d, %v; model %d, %v", k, old, ok, mv, mok)
					}
					model[k] = v
				case 3:
					if mv, mok := model[k]; mok {
						if !m.CompareAndSwap(k, mv, v) {
							t.Errorf("CompareAndSwap(%d, %d) failed", k, mv)
						}
						model[k] = v
					}
				case 4:
					if mv, mok := model[k]; mok && !m.CompareAndDelete(k, mv) {
						t.Errorf("CompareAndDelete(%d, %d) failed", k, mv)
					} else if mok {
						delete(model, k)
					}
				case 5:
					m.Compute(k, func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
						if loaded && old%2 == 0 {
							return 0, cmap.DeleteOp
						}
						return v, cmap.UpdateOp
					})
					if mv, mok := model[k]; mok && mv%2 == 0 {
						delete(model, k)
					} else {
						model[k] = v
					}
				case 6:
					got, loaded := m.LoadOrStore(k, v)
					if mv, mok := model[k]; loaded != mok || mok && got != mv {
						t.Errorf("LoadOrStore(%d) = %d, %v; model %d, %v", k, got, loaded, mv, mok)
					} else if !mok {
						model[k] = v
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	noGroupLocks(t, m)
	total := 0
	for _, model := range models {
		total += len(model)
		for k, v := range model {
			if got, ok := m.Load(k); !ok || got != v {
				t.Fatalf("key %d: %d, %v; model %d", k, got, ok, v)
			}
		}
	}
	if got := m.Len(); got != total {
		t.Fatalf("Len = %d, models hold %d", got, total)
	}
	check(t, m)
}

// TestGroupLockComputePanics: a Compute whose f panics under a group lock
// (key present, or absent with an insert prepared) leaves the map as it
// was, its counts and the load bound's reservation included, and every
// lock released.
func TestGroupLockComputePanics(t *testing.T) {
	m := cmap.New[uint64, uint64](cmap.WithSegments(1))
	for k := range uint64(20) {
		m.Store(k, k)
	}
	for _, k := range []uint64{5, 500} {
		r := recovered(func() {
			m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { panic(fmt.Sprint("boom ", k)) })
		})
		if r != fmt.Sprint("boom ", k) {
			t.Fatalf("Compute(%d) panicked with %v", k, r)
		}
		noGroupLocks(t, m)
		check(t, m)
	}
	if v, ok := m.Load(5); !ok || v != 5 {
		t.Fatalf("Load(5) = %d, %v after the panic", v, ok)
	}
	if _, ok := m.Load(500); ok || m.Len() != 20 {
		t.Fatalf("after the panics: 500 present %v, Len %d", ok, m.Len())
	}
	for _, k := range []uint64{6, 600} { // present, absent (its slot reserved)
		mustPanic(t, "invalid ComputeOp", func() {
			m.Compute(k, func(old uint64, _ bool) (uint64, cmap.ComputeOp) { return old, 9 })
		})
		noGroupLocks(t, m)
		check(t, m)
	}
	if _, ok := m.Load(600); ok || m.Len() != 20 {
		t.Fatalf("after the invalid ops: 600 present %v, Len %d", ok, m.Len())
	}
	m.Store(5, 55) // the key's lock is free
	if v, _ := m.Load(5); v != 55 {
		t.Fatalf("Load(5) = %d", v)
	}
	check(t, m)
}

// TestCountStripesKeepTheLoadBound: group-lock writers count in stripes,
// each with its share of the room the load bound leaves (setQuotas), so
// that together they never fill a table beyond it. A single writer that
// checks the map after every insert (the check takes the segment lock,
// whose unlock shares the room out again) meets every stripe at its
// limit as the table fills: shares that add up to more than the room
// would let an insert through with the table full. Deletes then empty the
// table, which must shrink (the shrink rule's shares).
func TestCountStripesKeepTheLoadBound(t *testing.T) {
	m := cmap.New[uint64, uint64](cmap.WithSegments(1))
	noGroupLocks(t, m)
	const n = 3000
	for k := range uint64(n) {
		m.Store(k, k)
		check(t, m)
		if got := m.Len(); got != int(k)+1 {
			t.Fatalf("Len %d after %d inserts", got, k+1)
		}
	}
	// The shrink rule: a delete that would leave fewer than an eighth of
	// the slots live rebuilds the table smaller first. The deletes run
	// with no check between them, so the stripes' shares of the room for
	// deletes are all that stands for the rule: shares that add up to
	// more than the room would let a delete past it.
	grown := m.TableGroups()[0]
	for k := range uint64(n) {
		m.Delete(k)
		if g := m.TableGroups()[0]; g > 1 && m.Len() < g*7/8 { // 7 slots per group
			t.Fatalf("%d live in %d groups after a delete: the table did not shrink", m.Len(), g)
		}
	}
	check(t, m)
	if m.Len() != 0 {
		t.Fatalf("Len %d after deleting every key", m.Len())
	}
	if g := m.TableGroups()[0]; g >= grown {
		t.Fatalf("the table kept %d groups after every key was deleted", g)
	}
}

// TestCountStripesExactUnderConcurrency: writers of one segment insert,
// overwrite and delete keys of their own, counting in the stripes of the
// keys' home groups, while a reader calls Len. Len never leaves the
// range of counts possible at that instant (no write is counted twice or
// not at all when stripes and the segment's own count are summed), and
// is exact at every pause, where the map's invariants hold. Then
// insert-only writers grow the table from empty (rebuilds store the
// segment's own count beside the stripes') while the reader checks that
// Len never decreases and never exceeds the inserts begun.
func TestCountStripesExactUnderConcurrency(t *testing.T) {
	countStripesMixed(t)
	countStripesGrowing(t)
}

func countStripesGrowing(t *testing.T) {
	const workers = 4
	per := 20000
	if testing.Short() {
		per = 5000
	}
	m := cmap.New[uint64, uint64](cmap.WithSegments(1))
	var begun atomic.Int64
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		last := 0
		for {
			select {
			case <-stop:
				return
			default:
			}
			n := m.Len()
			if n < last {
				t.Errorf("Len went down from %d to %d with inserts only", last, n)
				return
			}
			if b := begun.Load(); int64(n) > b {
				t.Errorf("Len %d with %d inserts begun", n, b)
				return
			}
			last = n
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				begun.Add(1)
				m.Store(uint64(i*workers+w), 1)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-readerDone
	if got := m.Len(); got != workers*per {
		t.Fatalf("Len %d after %d inserts", got, workers*per)
	}
	check(t, m)
}

func countStripesMixed(t *testing.T) {
	const workers, keys = 4, 500
	rounds := 6
	if testing.Short() {
		rounds = 3
	}
	m := cmap.New[uint64, uint64](cmap.WithSegments(1))
	noGroupLocks(t, m)
	for round := range rounds {
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var bad sync.Once
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if n := m.Len(); n < 0 || n > workers*keys {
					bad.Do(func() { t.Errorf("Len %d outside [0, %d]", n, workers*keys) })
				}
			}
		}()
		for w := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), uint64(round)))
				for range 4 * keys {
					k := uint64(r.IntN(keys)*workers + w)
					if r.IntN(2) == 0 {
						m.Store(k, k)
					} else {
						m.Delete(k)
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		n := 0
		for range m.All() {
			n++
		}
		if got := m.Len(); got != n {
			t.Fatalf("round %d: Len %d, %d entries", round, got, n)
		}
		check(t, m)
		noGroupLocks(t, m)
		if round%2 == 1 {
			m.Clear() // new slots: stripes from zero
			if m.Len() != 0 {
				t.Fatalf("Len %d after Clear", m.Len())
			}
		}
	}
}

// TestGroupLockDeleteBumpsItsGroup: a group-lock delete bumps the version
// of the group that held the key (readers of a slot freed and refilled
// would otherwise accept what they read: internal/table's
// TestDeleteHeldBumpsAtUnlock), once, in the same atomic operation as its
// unlock, and leaves every lock free. Keys of one hash share a home group;
// the ninth goes into the next group, so its delete holds two groups and
// must bump the one it deleted from, not its home. (With the unlock's bump
// left out, no version moves; with it on the home group, group 0 moves.)
func TestGroupLockDeleteBumpsItsGroup(t *testing.T) {
	m := cmap.New[uint64, uint64](cmap.WithSegments(1), cmap.WithHasher(func(uint64, uint64) uint64 { return 0 }))
	for k := uint64(1); k <= 9; k++ {
		m.Store(k, k)
	}
	locked := 0
	cmap.SetGroupLockedHook(func(any) { locked++ })
	defer cmap.SetGroupLockedHook(nil)
	for _, c := range []struct {
		key   uint64
		group int // the group the key is in
	}{{9, 1}, {1, 0}} {
		before := m.GroupVersions(c.key)
		locked = 0
		m.Delete(c.key)
		if locked != 1 {
			t.Fatalf("Delete(%d) took group locks %d times, want 1: the test proves nothing", c.key, locked)
		}
		after := m.GroupVersions(c.key)
		if len(after) != len(before) {
			t.Fatalf("Delete(%d) rebuilt the table: the test proves nothing", c.key)
		}
		for g := range after {
			want := before[g]
			if g == c.group {
				want += 2
			}
			if after[g] != want {
				t.Fatalf("Delete(%d): group %d's version word %#x -> %#x, want %#x (the key was in group %d)", c.key, g, before[g], after[g], want, c.group)
			}
		}
		if _, ok := m.Load(c.key); ok {
			t.Fatalf("key %d still present after its Delete", c.key)
		}
	}
	noGroupLocks(t, m)
}

// TestLightInsertPastFullGroup: a light insert whose home group has no
// EMPTY byte (seven keys stored, then one deleted, which leaves a
// TOMBSTONE) learns from a lock-free Find whether the key lies beyond the
// group. Present there, the write updates it there (and Compute sees its
// value); it never puts a second copy in the group's TOMBSTONE. Absent,
// the insert takes the TOMBSTONE.
func TestLightInsertPastFullGroup(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(1), cmap.WithHasher(cmap.IdentityHash))
	m.Reserve(1000) // no growth or shrink below
	g := m.TableGroups()[0]
	key := func(i int) int { return i * g } // home group 0
	for i := range 8 {
		m.Store(key(i), i) // the eighth goes to group 1
	}
	m.Delete(key(0)) // group 0 holds no EMPTY byte: a TOMBSTONE
	m.Store(key(7), 70)
	m.Compute(key(7), func(old int, loaded bool) (int, cmap.ComputeOp) {
		if !loaded || old != 70 {
			t.Errorf("Compute of a key past its full home group saw %d, %v; want 70, true", old, loaded)
		}
		return old + 1, cmap.UpdateOp
	})
	if v, ok := m.Load(key(7)); !ok || v != 71 {
		t.Fatalf("Load = %d, %v; want 71, true", v, ok)
	}
	m.Delete(key(7))
	if v, ok := m.Load(key(7)); ok {
		t.Fatalf("after Delete, Load = %d, true: the key was stored twice", v)
	}
	m.Store(key(8), 80) // absent: into group 0's TOMBSTONE
	m.Compute(key(9), func(old int, loaded bool) (int, cmap.ComputeOp) {
		if loaded {
			t.Errorf("Compute of an absent key saw %d, true", old)
		}
		return 90, cmap.UpdateOp
	})
	want := map[int]int{key(1): 1, key(2): 2, key(3): 3, key(4): 4, key(5): 5, key(6): 6, key(8): 80, key(9): 90}
	got := map[int]int{}
	for k, v := range m.All() {
		if _, dup := got[k]; dup {
			t.Fatalf("key %d seen twice", k)
		}
		got[k] = v
	}
	if !maps.Equal(got, want) || m.Len() != len(want) {
		t.Fatalf("map %v (Len %d), want %v", got, m.Len(), want)
	}
	check(t, m)
}
