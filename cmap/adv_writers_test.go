package cmap_test

// Adversarial tests of concurrent writers of flat tables, written against
// per-group write locking and kept for any locking scheme: many
// writers inside one group and the groups after it, readers checking each
// value they read for tearing and for going back in time, whole-map
// operations racing writers stalled inside a group, panics and re-entrant
// calls inside Compute callbacks, and exact counts once quiescent. They use
// the public API only, so they run on every layout and locking scheme.

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// advVal is a flat value of four words; a well-formed one (advMk) holds
// its key and a sequence number, with the words tied by a checksum, so
// that a value torn between two stores, or read from another key's slot,
// is detected.
type advVal [4]uint64

func advMk(k, seq uint64) advVal { return advVal{k, seq, k ^ seq ^ 0x5bd1e995, ^seq} }

// advCheck returns the sequence number of v, or an error if v is not a
// well-formed value of key k.
func advCheck(k uint64, v advVal) (uint64, error) {
	if v != advMk(k, v[1]) {
		return 0, fmt.Errorf("key %d: torn or foreign value %x", k, v)
	}
	return v[1], nil
}

// advClassHash sends key k to one of classes hash values: all keys of a
// class share their home group and their tag, so a class of more than a
// group's slots spills into the next groups (inserts past the home group),
// and every probe compares keys.
func advClassHash(classes uint64) cmap.Option {
	return cmap.WithHasher(func(_ uint64, k uint64) uint64 { return k % classes })
}

// TestAdvGroupTornReads: writers, each owning its keys, store, swap,
// compute, compare-and-swap and delete them with increasing sequence
// numbers, in few hash classes (so that many writers work inside one group
// and the groups its keys spill into), while other goroutines Reserve,
// Clear, snapshot and count. Readers check every value they load: well
// formed for its key (no torn value, no value of another key) and, per key,
// never older than one they loaded before (a writer's stores are ordered;
// a stale read accepted after a slot was freed and refilled, the ABA of a
// lost version bump, shows up as one or the other).
// The values are of four words (torn between stores if written unlike
// their layout's rules) and of one word, the shape of the light writes
// (flatwrite.go), where the key is in the value's high half: a value read
// from a slot before its insert published it, or after it was refilled,
// is another key's or an older one.
func TestAdvGroupTornReads(t *testing.T) {
	for _, classes := range []uint64{1, 3, 64} {
		t.Run(fmt.Sprintf("classes=%d", classes), func(t *testing.T) {
			advTornReads(t, classes, advMk, advCheck)
		})
		t.Run(fmt.Sprintf("one-word/classes=%d", classes), func(t *testing.T) {
			advTornReads(t, classes, adv1Mk, adv1Check)
		})
	}
}

// adv1Mk is advMk for one-word values: the key in the high half, the
// sequence number in the low half.
func adv1Mk(k, seq uint64) uint64 { return k<<32 | seq&0xFFFFFFFF }

// adv1Check is advCheck for adv1Mk's values.
func adv1Check(k uint64, v uint64) (uint64, error) {
	if v>>32 != k {
		return 0, fmt.Errorf("key %d: foreign value %#x", k, v)
	}
	return v & 0xFFFFFFFF, nil
}

func advTornReads[V comparable](t *testing.T, classes uint64, mk func(k, seq uint64) V, chk func(k uint64, v V) (uint64, error)) {
	const writers, keysPer = 4, 12
	rounds := 3000
	if testing.Short() {
		rounds = 800
	}
	m := cmap.New[uint64, V](cmap.WithSegments(1), advClassHash(classes))
	var stop atomic.Bool
	var wg, rwg sync.WaitGroup
	errs := make(chan error, 16)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
		stop.Store(true)
	}
	const nkeys = writers * keysPer
	for r := range 2 {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			var last [nkeys]uint64
			for i := 0; !stop.Load(); i++ {
				k := uint64((i*7 + r) % nkeys)
				v, ok := m.Load(k)
				if !ok {
					continue
				}
				seq, err := chk(k, v)
				if err != nil {
					fail(err)
					return
				}
				if seq < last[k] {
					fail(fmt.Errorf("key %d: read seq %d after seq %d: went back in time", k, seq, last[k]))
					return
				}
				last[k] = seq
			}
		}()
	}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq := uint64(1)
			for i := 0; i < rounds && !stop.Load(); i++ {
				k := uint64(w + writers*(i%keysPer))
				seq++
				switch i % 7 {
				case 0:
					m.Store(k, mk(k, seq))
				case 1:
					if old, ok := m.Swap(k, mk(k, seq)); ok {
						if _, err := chk(k, old); err != nil {
							fail(err)
						}
					}
				case 2:
					m.Compute(k, func(old V, loaded bool) (V, cmap.ComputeOp) {
						if loaded {
							if _, err := chk(k, old); err != nil {
								fail(err)
							}
						}
						return mk(k, seq), cmap.UpdateOp
					})
				case 3:
					if old, ok := m.Load(k); ok {
						m.CompareAndSwap(k, old, mk(k, seq))
					}
				case 4:
					if i%3 == 0 {
						m.Delete(k)
					} else {
						m.LoadOrStore(k, mk(k, seq))
					}
				case 5:
					m.Compute(k, func(V, bool) (V, cmap.ComputeOp) { var zero V; return zero, cmap.DeleteOp })
				case 6:
					m.LoadOrCompute(k, func() V { return mk(k, seq) })
				}
			}
		}()
	}
	// Whole-map operations against the writers.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load() && i < rounds/20; i++ {
			switch i % 5 {
			case 0:
				m.Reserve(64 + i%128)
			case 1:
				s := m.Snapshot()
				for k, v := range s.All() {
					if _, err := chk(k, v); err != nil {
						fail(fmt.Errorf("snapshot: %w", err))
					}
				}
			case 2:
				for k, v := range m.All() {
					if _, err := chk(k, v); err != nil {
						fail(fmt.Errorf("All: %w", err))
					}
				}
			case 3:
				if n := m.Len(); n < 0 || n > nkeys {
					fail(fmt.Errorf("Len %d outside [0, %d]", n, nkeys))
				}
			case 4:
				if i%15 == 4 {
					m.Clear()
				}
			}
			runtime.Gosched()
		}
	}()
	wg.Wait()
	stop.Store(true)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	advQuiescent(t, m)
}

// advQuiescent checks a map no one writes: its invariants, and that Len,
// Stats().Len, the number of entries Range yields and a snapshot's Len
// agree, with no key yielded twice.
func advQuiescent[K comparable, V any](t *testing.T, m *cmap.Map[K, V]) {
	t.Helper()
	check(t, m)
	seen := make(map[K]int)
	for k := range m.All() {
		seen[k]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("key %v yielded %d times", k, n)
		}
	}
	if n, st, s := m.Len(), m.Stats().Len, m.Snapshot().Len(); n != len(seen) || st != n || s != n {
		t.Fatalf("Len %d, Stats().Len %d, Snapshot().Len %d, %d keys ranged: not quiescent-exact", n, st, s, len(seen))
	}
}

// TestAdvSameKeyConcurrentInsert: goroutines race to insert the same
// absent keys, all of one hash class so that they spill past their home
// group, while a churner deletes and re-inserts other keys of the class
// (freeing slots in the home group while an insert may be placing its key
// further on). Per key exactly one LoadOrStore stores, every racer gets the
// winner's value, and the key is in the map once.
func TestAdvSameKeyConcurrentInsert(t *testing.T) {
	for _, mode := range []string{"LoadOrStore", "Compute", "LoadOrCompute"} {
		t.Run(mode, func(t *testing.T) {
			advSameKey(t, mode)
		})
	}
}

func advSameKey(t *testing.T, mode string) {
	const racers, targets, fillers = 4, 10, 14
	rounds := 60
	if testing.Short() {
		rounds = 25
	}
	m := cmap.New[uint64, uint64](cmap.WithSegments(1), advClassHash(1))
	for round := range rounds {
		// Fillers occupy the home group and the ones after it.
		for f := range uint64(fillers) {
			m.Store(1000+f, 0)
		}
		var start sync.WaitGroup
		start.Add(1)
		var wg sync.WaitGroup
		var stored [targets]atomic.Int32
		got := make([][targets]uint64, racers)
		for r := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				for i := range uint64(targets) {
					k := i
					mine := uint64(round)<<32 | uint64(r)<<8 | i
					var actual uint64
					switch mode {
					case "LoadOrStore":
						var loaded bool
						actual, loaded = m.LoadOrStore(k, mine)
						if !loaded {
							stored[i].Add(1)
						}
					case "Compute":
						actual, _ = m.Compute(k, func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
							if loaded {
								return old, cmap.CancelOp
							}
							stored[i].Add(1)
							return mine, cmap.UpdateOp
						})
					case "LoadOrCompute":
						var loaded bool
						actual, loaded = m.LoadOrCompute(k, func() uint64 { return mine })
						if !loaded {
							stored[i].Add(1)
						}
					}
					got[r][i] = actual
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			for j := range 3 * fillers {
				f := uint64(1000 + j%fillers)
				m.Delete(f)
				m.Store(f, uint64(j))
			}
		}()
		start.Done()
		wg.Wait()
		for i := range targets {
			if n := stored[i].Load(); n != 1 {
				t.Fatalf("round %d key %d: %d racers stored it, want 1", round, i, n)
			}
			for r := 1; r < racers; r++ {
				if got[r][i] != got[0][i] {
					t.Fatalf("round %d key %d: racer %d got %x, racer 0 got %x", round, i, r, got[r][i], got[0][i])
				}
			}
			if v, ok := m.Load(uint64(i)); !ok || v != got[0][i] {
				t.Fatalf("round %d key %d: map holds %x %v, racers got %x", round, i, v, ok, got[0][i])
			}
		}
		advQuiescent(t, m)
		if n := m.Len(); n != targets+fillers {
			t.Fatalf("round %d: Len %d, want %d", round, n, targets+fillers)
		}
		for i := range uint64(targets) {
			m.Delete(i)
		}
	}
}

// TestAdvComputePanicReleasesGroup: a Compute whose callback panics, on a
// present key, an absent one, and keys past their home group, leaves the
// map as it was and locks nothing: readers of the same group, writers of
// the same key and group, and every whole-map operation then finish.
func TestAdvComputePanicReleasesGroup(t *testing.T) {
	for _, classes := range []uint64{1, 2} {
		t.Run(fmt.Sprintf("classes=%d", classes), func(t *testing.T) {
			m := cmap.New[uint64, advVal](cmap.WithSegments(1), advClassHash(classes))
			for k := range uint64(30) {
				m.Store(k, advMk(k, 1))
			}
			before := contents(m)
			for _, k := range []uint64{0, 1, 28, 29, 100, 101} { // home group, past it, absent
				for range 2 {
					r := recovered(func() {
						m.Compute(k, func(advVal, bool) (advVal, cmap.ComputeOp) { panic("boom") })
					})
					if r != "boom" {
						t.Fatalf("Compute(%d) panicked with %v, want boom", k, r)
					}
					finishes(t, "Load after a panicking Compute", func() {
						for j := range uint64(32) {
							if v, ok := m.Load(j); ok {
								if _, err := advCheck(j, v); err != nil {
									panic(err)
								}
							}
						}
					})
					finishes(t, "Store to the same key", func() { m.Store(k, advMk(k, 2)); m.Store(k, advMk(k, 1)) })
					finishes(t, "Snapshot", func() { m.Snapshot() })
					finishes(t, "Reserve", func() { m.Reserve(200) })
					finishes(t, "Range", func() { m.Range(func(uint64, advVal) bool { return true }) })
					mustBeUnlocked(t, m)
					if k >= 100 {
						m.Delete(k)
					}
				}
			}
			if got := contents(m); len(got) != len(before) {
				t.Fatalf("after panics: %d entries, want %d", len(got), len(before))
			}
			advQuiescent(t, m)
			finishes(t, "Clear", func() { m.Clear() })
		})
	}
}

// TestAdvReentrantReadsInCompute: the methods docs/guarantees.md lists as
// safe inside a Compute callback — Load, Len, and the LoadOr methods of a
// present key — finish when the keys they touch share the callback key's
// group (every key here hashes alike) or lie past it, and Load sees the
// map as it was before the callback's write.
func TestAdvReentrantReadsInCompute(t *testing.T) {
	m := cmap.New[uint64, advVal](cmap.WithSegments(1), advClassHash(1))
	for k := range uint64(20) {
		m.Store(k, advMk(k, 1))
	}
	for _, k := range []uint64{0, 7, 19, 50} { // first slot, home group's last, past it, absent
		finishes(t, fmt.Sprintf("Compute(%d) reading the map in its callback", k), func() {
			m.Compute(k, func(old advVal, loaded bool) (advVal, cmap.ComputeOp) {
				for j := range uint64(21) {
					v, ok := m.Load(j)
					if ok != (j < 20) {
						panic(fmt.Sprintf("Load(%d) in callback: ok %v", j, ok))
					}
					if ok {
						if _, err := advCheck(j, v); err != nil {
							panic(err)
						}
					}
				}
				if n := m.Len(); n != 20 {
					panic(fmt.Sprintf("Len in callback %d, want 20", n))
				}
				if v, loaded := m.LoadOrStore(3, advVal{}); !loaded || v != advMk(3, 1) {
					panic("LoadOrStore of a present key in callback")
				}
				if v, loaded := m.LoadOrCompute(19, func() advVal { return advVal{} }); !loaded || v != advMk(19, 1) {
					panic("LoadOrCompute of a present key in callback")
				}
				return old, cmap.CancelOp
			})
		})
	}
	advQuiescent(t, m)
}

// TestAdvStalledComputeVsWholeMap: a Compute stalled inside its callback
// (so holding whatever lock it writes under) while readers read its group
// and Snapshot, Clear, Len and Range run. Readers never wait. Each
// whole-map operation is checked for linearizability against the write:
// one that returned while the callback was still running precedes it;
// one still running after Compute returned follows it.
func TestAdvStalledComputeVsWholeMap(t *testing.T) {
	for _, op := range []string{"Snapshot", "Clear", "Range", "Len", "Reserve"} {
		for _, k := range []uint64{1, 13, 99} { // home group, past it, absent
			t.Run(fmt.Sprintf("%s/key=%d", op, k), func(t *testing.T) {
				advStalled(t, op, k)
			})
		}
	}
}

func advStalled(t *testing.T, op string, k uint64) {
	m := cmap.New[uint64, advVal](cmap.WithSegments(1), advClassHash(1))
	for j := range uint64(16) {
		m.Store(j, advMk(j, 1))
	}
	entered, release := make(chan struct{}), make(chan struct{})
	computed := make(chan struct{})
	go func() {
		defer close(computed)
		m.Compute(k, func(advVal, bool) (advVal, cmap.ComputeOp) {
			close(entered)
			<-release
			return advMk(k, 2), cmap.UpdateOp
		})
	}()
	<-entered
	// Readers of the stalled group never wait.
	finishes(t, "Load while a Compute callback runs", func() {
		for j := range uint64(17) {
			v, ok := m.Load(j)
			if ok != (j < 16) {
				panic(fmt.Sprintf("Load(%d): ok %v", j, ok))
			}
			if ok {
				if seq, err := advCheck(j, v); err != nil || seq != 1 {
					panic(fmt.Sprintf("Load(%d) = %x (%v) while the callback runs", j, v, err))
				}
			}
		}
	})
	var res struct {
		has bool // k present in the snapshot or range, or Len counted it
		n   int
	}
	var opDone atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		switch op {
		case "Snapshot":
			s := m.Snapshot()
			v, ok := s.Load(k)
			res.has = ok && v == advMk(k, 2)
			res.n = s.Len()
		case "Clear":
			m.Clear()
		case "Range":
			m.Range(func(key uint64, v advVal) bool {
				if key == k && v == advMk(k, 2) {
					res.has = true
				}
				res.n++
				return true
			})
		case "Len":
			res.n = m.Len()
			res.has = k >= 16 && res.n == 17
		case "Reserve":
			m.Reserve(1000)
		}
		opDone.Store(true)
	}()
	// Give the operation every chance to finish before the write.
	for range 50 {
		runtime.Gosched()
	}
	before := opDone.Load()
	close(release)
	<-computed
	after := !opDone.Load()
	<-done
	final, ok := m.Load(k)
	switch {
	case before: // the operation precedes the write
		if res.has {
			t.Fatalf("%s returned before the callback did and saw its value", op)
		}
		if op == "Clear" && (!ok || final != advMk(k, 2)) {
			t.Fatalf("Clear returned before the Compute callback did, yet the Compute's value is gone (Load: %x %v)", final, ok)
		}
	case after: // the operation follows the write
		if (op == "Snapshot" || op == "Range") && !res.has {
			t.Fatalf("%s finished after Compute returned and missed its value", op)
		}
		if op == "Clear" && ok {
			t.Fatalf("Clear finished after Compute returned, yet %d is present", k)
		}
	}
	if op != "Clear" && (!ok || final != advMk(k, 2)) {
		t.Fatalf("after the Compute, Load(%d) = %x %v", k, final, ok)
	}
	advQuiescent(t, m)
}

// TestAdvLenExactAfterChurn: after concurrent churn with a known final
// state (each goroutine owns its keys and ends with every even one present
// and every odd one absent), Len, Stats, Range and a snapshot agree with
// it exactly, in maps spilling past home groups and in spread ones.
func TestAdvLenExactAfterChurn(t *testing.T) {
	for _, classes := range []uint64{1, 5, 1 << 20} {
		t.Run(fmt.Sprintf("classes=%d", classes), func(t *testing.T) {
			const writers, keysPer = 4, 40
			m := cmap.New[uint64, uint64](cmap.WithSegments(2), advClassHash(classes))
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for rep := range 20 {
						for i := range uint64(keysPer) {
							k := uint64(w)*keysPer + i
							switch (rep + int(i)) % 4 {
							case 0:
								m.Store(k, k)
							case 1:
								m.Delete(k)
							case 2:
								m.LoadOrStore(k, k)
							case 3:
								m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { return 0, cmap.DeleteOp })
							}
						}
					}
					for i := range uint64(keysPer) {
						k := uint64(w)*keysPer + i
						if i%2 == 0 {
							m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { return k, cmap.UpdateOp })
						} else {
							m.LoadAndDelete(k)
						}
					}
				}()
			}
			wg.Wait()
			advQuiescent(t, m)
			if n := m.Len(); n != writers*keysPer/2 {
				t.Fatalf("Len %d, want %d", n, writers*keysPer/2)
			}
			for k, v := range m.All() {
				if k%2 != 0 || v != k {
					t.Fatalf("entry %d→%d should not be there", k, v)
				}
			}
		})
	}
}

// TestAdvCallbackWritesOtherSegmentVsWholeMap: a Compute callback may
// write a key of another segment (Compute's doc: it waits for that
// segment's writers only), while Snapshot, Clear, Range, Stats and Reserve
// — which take every segment, or one after another — run in another
// goroutine. Nothing may deadlock: a whole-map operation waiting for the
// callback's group or segment must not hold the segment the callback
// writes to while it waits.
func TestAdvCallbackWritesOtherSegmentVsWholeMap(t *testing.T) {
	m := cmap.New[uint64, uint64](cmap.WithSegments(2))
	var srcs, dsts []uint64 // keys of segment 0, and of segment 1
	for k := uint64(0); len(srcs) < 4 || len(dsts) < 8; k++ {
		if m.SegmentOf(k) == 0 {
			srcs = append(srcs, k)
		} else {
			dsts = append(dsts, k)
		}
	}
	rounds := 300
	if testing.Short() {
		rounds = 120
	}
	stop := watchdog("Compute callbacks writing another segment vs whole-map operations")
	defer stop()
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				m.Compute(srcs[(w+i)%len(srcs)], func(old uint64, _ bool) (uint64, cmap.ComputeOp) {
					m.Store(dsts[i%len(dsts)], uint64(i))
					runtime.Gosched()
					return old + 1, cmap.UpdateOp
				})
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range rounds / 2 {
			switch i % 5 {
			case 0:
				m.Snapshot()
			case 1:
				m.Range(func(uint64, uint64) bool { return true })
			case 2:
				m.Stats()
			case 3:
				m.Reserve(i * 10)
			case 4:
				m.Clear()
			}
		}
	}()
	wg.Wait()
	check(t, m)
}

// TestAdvSealedTableBounce: snapshots taken back to back keep the table
// shared (frozen) most of the time, so writers of one group alternate
// between copying the table before they write and writing in place,
// while readers check every value. A version bump lost between the two
// paths lets a reader accept a torn value (the checksum); a writer left
// waiting on the other hangs (the watchdog). Under per-group write locks
// (a lock bit in the version word, which a sealed table makes writers
// drop at once) it races those unlocks against the segment-lock writer's
// bumps in the same group.
func TestAdvSealedTableBounce(t *testing.T) {
	const writers, keysPer = 4, 6
	rounds := 4000
	if testing.Short() {
		rounds = 1500
	}
	m := cmap.New[uint64, advVal](cmap.WithSegments(1), advClassHash(1))
	stop := watchdog("writers of a group bouncing off a sealed table")
	defer stop()
	var done atomic.Bool
	var wg, side sync.WaitGroup
	errs := make(chan error, 4)
	side.Add(2)
	go func() {
		defer side.Done()
		for !done.Load() {
			m.Snapshot()
		}
	}()
	go func() {
		defer side.Done()
		for i := uint64(0); !done.Load(); i++ {
			k := i % (writers * keysPer)
			if v, ok := m.Load(k); ok {
				if _, err := advCheck(k, v); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				k := uint64(w + writers*(i%keysPer))
				if i%3 == 2 {
					m.Delete(k)
				} else {
					m.Store(k, advMk(k, uint64(i)))
				}
			}
		}()
	}
	wg.Wait()
	done.Store(true)
	side.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	advQuiescent(t, m)
}
