package cmap_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
	"github.com/segmap/segmap/snapshot"
)

// TestOrderSemantics: which operations move a key to the newest position.
func TestOrderSemantics(t *testing.T) {
	m := cmap.New[string, int](cmap.WithInsertionOrder())
	order := func() string {
		var ks []string
		for k := range m.Snapshot().InOrder() {
			ks = append(ks, k)
		}
		return strings.Join(ks, " ")
	}
	steps := []struct {
		do   func()
		want string
	}{
		{func() { m.Store("a", 1); m.Store("b", 1); m.Store("c", 1) }, "a b c"},
		{func() { m.Load("a") }, "a b c"},
		{func() { m.Store("a", 2) }, "b c a"},
		{func() { m.Swap("b", 2) }, "c a b"},
		{func() { m.LoadOrStore("c", 9) }, "c a b"},                         // loads: no move
		{func() { m.LoadOrCompute("c", func() int { return 9 }) }, "c a b"}, // loads: no move
		{func() { m.CompareAndSwap("c", 0, 5) }, "c a b"},                   // fails: no move
		{func() { m.CompareAndSwap("c", 1, 5) }, "a b c"},
		{func() {
			m.Compute("a", func(v int, _ bool) (int, cmap.ComputeOp) { return v, cmap.CancelOp })
		}, "a b c"},
		{func() {
			m.Compute("a", func(v int, _ bool) (int, cmap.ComputeOp) { return v + 1, cmap.UpdateOp })
		}, "b c a"},
		{func() { _ = m.TryStore("b", 7) }, "c a b"},
		{func() { m.LoadOrStore("d", 1) }, "c a b d"},
		{func() { m.Delete("a") }, "c b d"},
		{func() { m.Store("a", 1) }, "c b d a"},
		{func() { m.CompareAndDelete("b", 7) }, "c d a"},
		{func() { m.LoadAndDelete("d") }, "c a"},
	}
	for i, s := range steps {
		s.do()
		if got := order(); got != s.want {
			t.Fatalf("step %d: order %q, want %q", i, got, s.want)
		}
		check(t, m)
	}
	if k, v, ok := m.Oldest(); k != "c" || v != 5 || !ok {
		t.Fatalf("Oldest = %q, %d, %v", k, v, ok)
	}
	if k, v, ok := m.Newest(); k != "a" || v != 1 || !ok {
		t.Fatalf("Newest = %q, %d, %v", k, v, ok)
	}
	for _, want := range []string{"c", "a"} {
		if k, _, ok := m.PopOldest(); k != want || !ok {
			t.Fatalf("PopOldest = %q, %v, want %q", k, ok, want)
		}
	}
	if _, _, ok := m.PopOldest(); ok {
		t.Fatal("PopOldest of an empty map found an entry")
	}
	if _, _, ok := m.Oldest(); ok {
		t.Fatal("Oldest of an empty map found an entry")
	}
	if _, _, ok := m.Newest(); ok {
		t.Fatal("Newest of an empty map found an entry")
	}
	check(t, m)
}

// TestOrderModel compares a map with insertion order against the model
// over random operations that grow, shrink, clean and copy the tables
// (snapshots and iterations force copies), checking every invariant as it
// goes. Old snapshots are checked again at the end: nothing the map did
// since may have changed them.
func TestOrderModel(t *testing.T) {
	forEachHasher(t, func(t *testing.T, newMap func(...cmap.Option) *cmap.Map[uint64, uint64]) {
		seed := rand.Uint64()
		rng := rand.New(rand.NewPCG(seed, 1))
		m := newMap(cmap.WithInsertionOrder(), cmap.WithSegments(4))
		o := newOrderModel[uint64, uint64]()
		type kept struct {
			s    *snapshot.Snapshot[uint64, uint64]
			want []string
		}
		var snaps []kept
		steps := 4000
		if testing.Short() {
			steps = 1000
		}
		for step := range steps {
			keys := uint64(64)
			if step/500%2 == 1 {
				keys = 600 // grow, then shrink back
			}
			k := rng.Uint64N(keys)
			v := rng.Uint64()
			switch op := rng.IntN(100); {
			case op < 30:
				m.Store(k, v)
				o.store(k, v)
			case op < 40:
				m.Delete(k)
				o.remove(k)
			case op < 45:
				if _, loaded := m.LoadOrStore(k, v); !loaded {
					o.store(k, v)
				}
			case op < 50:
				m.Compute(k, func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
					switch {
					case v%3 == 0:
						return v, cmap.UpdateOp
					case v%3 == 1 && loaded:
						return 0, cmap.DeleteOp
					}
					return old, cmap.CancelOp
				})
				switch _, loaded := o.m[k]; {
				case v%3 == 0:
					o.store(k, v)
				case v%3 == 1 && loaded:
					o.remove(k)
				}
			case op < 53:
				k, v, ok := m.PopOldest()
				if ok != (len(o.order) > 0) || ok && (k != o.order[0] || v != o.m[k]) {
					t.Fatalf("seed %d step %d: PopOldest = %d, %d, %v; want %v", seed, step, k, v, ok, o.pairs())
				}
				if ok {
					o.remove(k)
				}
			case op < 56:
				k, v, ok := m.Oldest()
				if ok != (len(o.order) > 0) || ok && (k != o.order[0] || v != o.m[k]) {
					t.Fatalf("seed %d step %d: Oldest = %d, %d, %v; want %v", seed, step, k, v, ok, o.pairs())
				}
			case op < 59:
				k, v, ok := m.Newest()
				if ok != (len(o.order) > 0) || ok && (k != o.order[len(o.order)-1] || v != o.m[k]) {
					t.Fatalf("seed %d step %d: Newest = %d, %d, %v; want %v", seed, step, k, v, ok, o.pairs())
				}
			case op < 62:
				s := m.Snapshot()
				if got, want := inOrder(s), o.pairs(); !slices.Equal(got, want) {
					t.Fatalf("seed %d step %d: InOrder = %v, want %v", seed, step, got, want)
				}
				if len(snaps) < 20 {
					snaps = append(snaps, kept{s, o.pairs()})
				}
			case op < 63:
				for range m.All() { // pins: the next writes copy
					m.Store(k, v)
					o.store(k, v)
					break
				}
			case op < 64:
				m.Reserve(rng.IntN(300))
			case op < 65 && rng.IntN(4) == 0:
				m.Clear()
				o = newOrderModel[uint64, uint64]()
			case op < 68:
				want, wok := o.m[k]
				if got, ok := m.Swap(k, v); ok != wok || got != want {
					t.Fatalf("seed %d step %d: Swap(%d) = %d, %v; want %d, %v", seed, step, k, got, ok, want, wok)
				}
				o.store(k, v)
			case op < 71:
				old := o.m[k]
				if v%2 == 0 {
					old++ // fails
				}
				_, loaded := o.m[k]
				if swapped := m.CompareAndSwap(k, old, v); swapped != (loaded && v%2 == 1) {
					t.Fatalf("seed %d step %d: CompareAndSwap(%d) = %v", seed, step, k, swapped)
				}
				if loaded && v%2 == 1 {
					o.store(k, v)
				}
			case op < 73:
				if _, loaded := m.LoadOrCompute(k, func() uint64 { return v }); !loaded {
					o.store(k, v)
				}
			case op < 75:
				if m.CompareAndDelete(k, o.m[k]) {
					o.remove(k)
				}
			case op < 77:
				if err := m.TryStore(k, v); err != nil {
					t.Fatal(err)
				}
				o.store(k, v)
			default:
				want, wok := o.m[k]
				if got, ok := m.Load(k); ok != wok || got != want {
					t.Fatalf("seed %d step %d: Load(%d) = %d, %v; want %d, %v", seed, step, k, got, ok, want, wok)
				}
			}
			if step%50 == 0 {
				if err := m.CheckInvariants(); err != nil {
					t.Fatalf("seed %d step %d: %v", seed, step, err)
				}
				if m.Len() != len(o.m) {
					t.Fatalf("seed %d step %d: Len = %d, want %d", seed, step, m.Len(), len(o.m))
				}
			}
		}
		check(t, m)
		if got, want := inOrder(m.Snapshot()), o.pairs(); !slices.Equal(got, want) {
			t.Fatalf("seed %d: final InOrder = %v, want %v", seed, got, want)
		}
		for i, s := range snaps {
			if got := inOrder(s.s); !slices.Equal(got, s.want) {
				t.Fatalf("seed %d: snapshot %d changed: InOrder = %v, want %v", seed, i, got, s.want)
			}
		}
		if m.Stats().Resizes == 0 {
			t.Fatal("no rebuild: the log was never copied")
		}
	})
}

// TestOrderZeroSizeEntries: with an entry type of size zero, every entry
// has the same address; the log must still hold one valid record.
func TestOrderZeroSizeEntries(t *testing.T) {
	m := cmap.New[struct{}, struct{}](cmap.WithInsertionOrder())
	for range 3 {
		m.Store(struct{}{}, struct{}{})
		m.Store(struct{}{}, struct{}{})
		check(t, m)
		m.Delete(struct{}{})
		check(t, m)
		m.Store(struct{}{}, struct{}{})
		check(t, m)
		n := 0
		for range m.Snapshot().InOrder() {
			n++
		}
		if n != 1 || m.Len() != 1 {
			t.Fatalf("InOrder visited %d entries, Len %d; want 1", n, m.Len())
		}
		if _, _, ok := m.PopOldest(); !ok {
			t.Fatal("PopOldest found nothing")
		}
		check(t, m)
	}
}

// TestOrderPanicsWithoutOption: the order methods name the option.
func TestOrderPanicsWithoutOption(t *testing.T) {
	m := cmap.New[int, int]()
	var zero cmap.Map[int, int]
	bounded := cmap.New[int, int](cmap.WithMaxLen(4, cmap.RejectNew))
	for name, f := range map[string]func(){
		"Oldest":    func() { m.Oldest() },
		"Newest":    func() { m.Newest() },
		"PopOldest": func() { m.PopOldest() },
		"zero map":  func() { zero.Oldest() },
		"RejectNew": func() { bounded.PopOldest() }, // a bound alone keeps no order
		"InOrder":   func() { m.Snapshot().InOrder() },
	} {
		msg := panicMessage(f)
		if !strings.Contains(msg, "WithInsertionOrder") || (name != "InOrder" && !strings.HasPrefix(msg, "cmap: ")) {
			t.Errorf("%s: panic %q does not name the option", name, msg)
		}
	}
}

// TestPopOldestConcurrent: poppers racing with each other and with an
// inserter of increasing keys never return an entry twice, each sees
// increasing keys, and the popped and the remaining keys are exactly the
// inserted ones.
func TestPopOldestConcurrent(t *testing.T) {
	m := cmap.New[uint64, uint64](cmap.WithInsertionOrder())
	const pre, more, poppers = 2000, 2000, 4
	for k := range uint64(pre) {
		m.Store(k, k)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for k := uint64(pre); k < pre+more; k++ {
			m.Store(k, k)
		}
	})
	popped := make([][]uint64, poppers)
	for p := range poppers {
		wg.Go(func() {
			for range (pre + more) / poppers / 2 {
				k, v, ok := m.PopOldest()
				if !ok {
					runtime.Gosched()
					continue
				}
				if v != k {
					t.Errorf("PopOldest = %d, %d", k, v)
				}
				if n := len(popped[p]); n > 0 && popped[p][n-1] >= k {
					t.Errorf("popper %d: %d after %d", p, k, popped[p][n-1])
				}
				popped[p] = append(popped[p], k)
			}
		})
	}
	wg.Wait()
	seen := make(map[uint64]bool)
	for _, ks := range popped {
		for _, k := range ks {
			if seen[k] {
				t.Fatalf("key %d popped twice", k)
			}
			seen[k] = true
		}
	}
	for k := range m.Keys() {
		if seen[k] {
			t.Fatalf("key %d popped and still present", k)
		}
		seen[k] = true
	}
	if len(seen) != pre+more {
		t.Fatalf("%d keys popped or present, want %d", len(seen), pre+more)
	}
	check(t, m)
}

// TestOrderedAllocs: a Load of an ordered map allocates nothing; a Store
// of an existing key allocates its entry and, amortized, nothing for the
// log (compaction reuses its array).
func TestOrderedAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	if cmap.Invariants {
		t.Skip("the invariant checks of -tags segmap_invariants allocate")
	}
	m := cmap.New[int, int](cmap.WithInsertionOrder())
	for i := range 1000 {
		m.Store(i, i)
	}
	i := 0
	if a := testing.AllocsPerRun(10000, func() { m.Load(i % 1000); i++ }); a != 0 {
		t.Errorf("Load: %v allocs", a)
	}
	if a := testing.AllocsPerRun(10000, func() { m.Store(i%1000, i); i++ }); a > 1.01 {
		t.Errorf("Store of an existing key: %v allocs, want 1", a)
	}
}

// TestInOrderUnderWriters: snapshots taken while writers insert (growing
// the tables) and overwrite list each writer's stores in the order it
// made them, and hold a prefix of each writer's keys.
func TestInOrderUnderWriters(t *testing.T) {
	const writers, perWriter = 3, 1500
	m := cmap.New[uint64, uint64](cmap.WithInsertionOrder(), cmap.WithSegments(8))
	var stop atomic.Bool
	var snapper sync.WaitGroup
	var snaps atomic.Int64
	snapper.Go(func() {
		for !stop.Load() {
			next := make([]uint64, writers)    // the next key expected of each writer
			between := make([]uint64, writers) // 1 + the key caught between its two Stores
			for k, v := range m.Snapshot().InOrder() {
				w, j := k%writers, k/writers
				if v != k && v != k+1 || j != next[w] {
					t.Errorf("writer %d: key #%d (value %d) after %d keys", w, j, v, next[w])
					return
				}
				if v == k+1 {
					between[w] = j + 1
				}
				next[w]++
			}
			for w := range writers {
				if between[w] != 0 && between[w] != next[w] {
					t.Errorf("writer %d: key #%d has its first value, but %d keys follow it", w, between[w]-1, next[w])
					return
				}
			}
			snaps.Add(1)
			time.Sleep(100 * time.Microsecond) // let the writers run between copies
		}
	})
	var wg sync.WaitGroup
	for w := range uint64(writers) {
		wg.Go(func() {
			for j := range uint64(perWriter) {
				if j%300 == 0 { // wait for a snapshot now and then
					for s := snaps.Load(); snaps.Load() == s; {
						runtime.Gosched()
					}
				}
				k := j*writers + w
				m.Store(k, k+1) // then moved to the newest position by its final value
				m.Store(k, k)
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	snapper.Wait()
	if snaps.Load() < 5 {
		t.Fatalf("%d snapshots taken while writing", snaps.Load())
	}
	check(t, m)
}

// TestOrderedLogsUnderEverything attacks the log sharing of ordered maps
// (internal/table's Log, "Sharing"): writers store new keys, re-store
// theirs with CompareAndSwap (moving them to the newest position) and
// delete them, while PopOldest, Newest, Range (whose pins make writers
// clone tables) and Snapshot run at once, so that logs are shared,
// appended past and below their shared part, trimmed by Newest below it
// and compacted. A value is its writer's stamp, which grows with each of
// its stores, so:
//
//   - in every snapshot's InOrder, each key appears once, the keys are
//     those of All, and each writer's stamps increase;
//   - each snapshot's InOrder, read again at the end, is what it was;
//   - PopOldest returns each writer's stamps in increasing order;
//   - each key stored ends up exactly once: in the map, popped, or
//     deleted by its writer.
func TestOrderedLogsUnderEverything(t *testing.T) {
	const writers = 3
	opsPerWriter := 4000
	if raceEnabled {
		opsPerWriter = 1500
	}
	m := cmap.New[int, int](cmap.WithSegments(4), cmap.WithInsertionOrder())
	var stop atomic.Bool
	var wg, others sync.WaitGroup
	var popped, deleted [writers]map[int]bool
	var stored [writers][]int
	for w := range writers {
		popped[w], deleted[w] = map[int]bool{}, map[int]bool{}
	}
	var popMu sync.Mutex

	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			stamp := 0
			own := map[int]int{} // key -> stamp last stored, possibly popped since
			next := 0
			for range opsPerWriter {
				stamp++
				switch r := rng.IntN(10); {
				case r < 5 || len(own) == 0:
					k := w<<24 | next
					next++
					m.Store(k, stamp)
					own[k] = stamp
					stored[w] = append(stored[w], k)
				case r == 8:
					// The log's worst case, raced by the others: a
					// snapshot shares the record of the newest key, a
					// delete makes it stale, Newest trims it off the
					// log, and the next store appends below the
					// snapshot's end.
					k := w<<24 | next
					next++
					m.Store(k, stamp)
					stored[w] = append(stored[w], k)
					s := m.Snapshot()
					if _, ok := m.LoadAndDelete(k); ok {
						deleted[w][k] = true
					}
					m.Newest()
					stamp++
					k2 := w<<24 | next
					next++
					m.Store(k2, stamp)
					own[k2] = stamp
					stored[w] = append(stored[w], k2)
					if _, err := checkInOrder(s, writers); err != nil {
						t.Error(err)
						return
					}
				case r < 8:
					k := anyKey(rng, own)
					if m.CompareAndSwap(k, own[k], stamp) {
						own[k] = stamp
					} else {
						delete(own, k) // popped
					}
				default:
					// Often the newest: Newest then trims the log below
					// a snapshot's part of it.
					k, newest := anyKey(rng, own), -1
					for kk, st := range own {
						if newest < 0 || st > own[newest] {
							newest = kk
						}
					}
					if rng.IntN(2) == 0 {
						k = newest
					}
					if _, ok := m.LoadAndDelete(k); ok {
						deleted[w][k] = true
					}
					delete(own, k)
				}
			}
		}()
	}
	// PopOldest: each writer's stamps in increasing order.
	others.Add(1)
	go func() {
		defer others.Done()
		last := [writers]int{}
		for !stop.Load() {
			k, v, ok := m.PopOldest()
			if !ok {
				continue
			}
			w := k >> 24
			if v <= last[w] {
				t.Errorf("PopOldest: writer %d's stamp %d after %d", w, v, last[w])
			}
			last[w] = v
			popMu.Lock()
			if popped[w][k] {
				t.Errorf("PopOldest: key %#x popped twice", k)
			}
			popped[w][k] = true
			popMu.Unlock()
		}
	}()
	// Newest and Range: Newest trims the logs' stale tails, Range pins
	// tables so that writers clone them.
	others.Add(1)
	go func() {
		defer others.Done()
		for i := 0; !stop.Load(); i++ {
			m.Newest()
			if i%8 == 0 {
				m.Range(func(int, int) bool { return true })
			}
		}
	}()
	// Snapshots, each checked when taken and kept.
	type taken struct {
		s     *snapshot.Snapshot[int, int]
		order []int
	}
	var snaps []taken
	others.Add(1)
	go func() {
		defer others.Done()
		for !stop.Load() {
			s := m.Snapshot()
			order, err := checkInOrder(s, writers)
			if err != nil {
				t.Error(err)
				return
			}
			if len(snaps) < 200 {
				snaps = append(snaps, taken{s, order})
			}
		}
	}()
	wg.Wait()
	stop.Store(true)
	others.Wait()

	for i, s := range snaps {
		if got, err := checkInOrder(s.s, writers); err != nil || !slices.Equal(got, s.order) {
			t.Fatalf("snapshot %d changed (%v): InOrder %v, was %v", i, err, got, s.order)
		}
	}
	check(t, m)
	for w := range writers {
		for _, k := range stored[w] {
			_, present := m.Load(k)
			n := 0
			for _, b := range []bool{present, popped[w][k], deleted[w][k]} {
				if b {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("key %#x: present %v, popped %v, deleted %v", k, present, popped[w][k], deleted[w][k])
			}
		}
	}
	npop, ndel := 0, 0
	for w := range writers {
		npop, ndel = npop+len(popped[w]), ndel+len(deleted[w])
	}
	t.Logf("%d snapshots kept, %d popped, %d deleted, %d left", len(snaps), npop, ndel, m.Len())
	if len(snaps) < 5 {
		t.Fatalf("only %d snapshots taken", len(snaps))
	}
}

// anyKey returns a random key of own, which must not be empty.
func anyKey(rng *rand.Rand, own map[int]int) int {
	i := rng.IntN(len(own))
	for k := range own {
		if i == 0 {
			return k
		}
		i--
	}
	panic("unreachable")
}

// checkInOrder checks a snapshot of TestOrderedLogsUnderEverything's map
// and returns its InOrder keys and values.
func checkInOrder(s *snapshot.Snapshot[int, int], writers int) ([]int, error) {
	var order []int
	seen := map[int]bool{}
	last := make([]int, writers)
	for k, v := range s.InOrder() {
		if seen[k] {
			return nil, fmt.Errorf("InOrder: key %#x twice", k)
		}
		seen[k] = true
		if w := k >> 24; v <= last[w] {
			return nil, fmt.Errorf("InOrder: writer %d's stamp %d after %d", w, v, last[w])
		} else {
			last[w] = v
		}
		if got, ok := s.Load(k); !ok || got != v {
			return nil, fmt.Errorf("InOrder gave %#x: %d, Load gives %d, %v", k, v, got, ok)
		}
		order = append(order, k, v)
	}
	n := 0
	for k := range s.Keys() {
		if !seen[k] {
			return nil, fmt.Errorf("key %#x in All, not in InOrder", k)
		}
		n++
	}
	if n != len(seen) || s.Len() != n {
		return nil, fmt.Errorf("InOrder has %d keys, All %d, Len %d", len(seen), n, s.Len())
	}
	return order, nil
}
