package cmap

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReshareWithoutSeal: a group-lock segment whose count stripes spend
// their shares of the load bound's room one after another reshares the
// room (state.reshare) instead of sealing its table, so that no insert
// before the bound waits for a pass over every group lock; and the bound
// stays exact: the table takes MaxUsed inserts into EMPTY slots with no
// rebuild, and rebuilds at the next one.
func TestReshareWithoutSeal(t *testing.T) {
	if invariants {
		t.Skip("a segmap_invariants build seals every table after every write to check it")
	}
	m := New[uint64, uint64](WithSegments(1), WithCapacity(20000))
	st := m.state()
	if !st.glock {
		t.Fatal("the map does not write with group locks: the test proves nothing")
	}
	s := &st.segs[0]
	tb := s.table.Load()
	bound := tb.MaxUsed()
	before := m.Stats().Resizes // seals once, and shares the room out exactly
	seals, reshares := 0, 0
	testHookSeal = func(int) { seals++ }
	testHookReshareClosed = func() { reshares++ }
	defer func() { testHookSeal, testHookReshareClosed = nil, nil }()
	r := rand.New(rand.NewPCG(1, 2))
	keys := make(map[uint64]bool)
	for len(keys) < bound {
		k := r.Uint64()
		if !keys[k] {
			keys[k] = true
			m.Store(k, k)
		}
	}
	if s.table.Load() != tb {
		t.Fatalf("the table was replaced before the load bound (%d inserts)", bound)
	}
	if seals != 0 {
		t.Fatalf("%d seals while the table had room (%d reshares)", seals, reshares)
	}
	if reshares == 0 {
		t.Fatal("no reshare: the stripes never ran out of their shares, so the test proves nothing")
	}
	if got := s.used.Load(); got != int64(bound) {
		t.Fatalf("used %d after %d inserts into an empty table", got, bound)
	}
	for {
		k := r.Uint64()
		if !keys[k] {
			m.Store(k, k)
			break
		}
	}
	testHookSeal, testHookReshareClosed = nil, nil
	if s.table.Load() == tb {
		t.Fatalf("no rebuild at insert %d, beyond the load bound %d", bound+1, bound)
	}
	if got := m.Stats().Resizes; got != before+1 {
		t.Fatalf("%d rebuilds, want 1", got-before)
	}
	if m.Len() != bound+1 {
		t.Fatalf("Len %d, want %d", m.Len(), bound+1)
	}
}

// TestReshareRacesWriters: writers of one segment insert and delete while
// reshares run, each reshare held between reading the stripes' counts and
// storing their new bounds (testHookQuotasRead) so that writers race
// it. A reshare that read the counts with the stripes open would let
// a writer whose add came after the read pass the test against the old
// bound, uncounted, and the table go beyond its load bound (used >
// MaxUsed) or below the shrink rule. A checker seals the segment again
// and again (lockSeg, where the counts are exact) and checks both; at the
// end the map holds exactly what the writers left.
func TestReshareRacesWriters(t *testing.T) {
	if invariants {
		t.Skip("a segmap_invariants build seals every table after every write, so no reshare races a writer")
	}
	const writers, perWriter = 4, 20000
	m := New[uint64, uint64](WithSegments(1))
	st := m.state()
	if !st.glock {
		t.Fatal("the map does not write with group locks: the test proves nothing")
	}
	var reshares atomic.Int64
	testHookReshareClosed = func() { reshares.Add(1) }
	testHookQuotasRead = func() { time.Sleep(50 * time.Microsecond) }
	defer func() { testHookReshareClosed, testHookQuotasRead = nil, nil }()
	var failed atomic.Value
	stop := make(chan struct{})
	var checker sync.WaitGroup
	checker.Add(1)
	go func() {
		defer checker.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			st.lockSeg(0)
			s := &st.segs[0]
			tb := s.table.Load()
			used, live := s.used.Load(), s.live.Load()
			if used > int64(tb.MaxUsed()) {
				failed.CompareAndSwap(nil, "used beyond the load bound")
				t.Errorf("used %d, beyond the load bound %d of a table of %d groups", used, tb.MaxUsed(), tb.Groups())
			}
			if live < 0 || used < live {
				t.Errorf("live %d, used %d", live, used)
			}
			st.unlockSeg(0)
			time.Sleep(20 * time.Microsecond)
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range perWriter {
				k := uint64(w)<<32 | uint64(i)
				m.Store(k, k)
				if i%3 == 2 { // delete a third of this writer's keys
					if d := uint64(r.IntN(i + 1)); d%3 != 2 {
						m.Delete(uint64(w)<<32 | d)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	checker.Wait()
	if reshares.Load() == 0 {
		t.Fatal("no reshare ran: the test proves nothing")
	}
	// What the writers left: keys deleted by the rule above are those
	// with d%3 != 2 drawn by the same sequence.
	want := 0
	for w := range writers {
		r := rand.New(rand.NewPCG(uint64(w), 7))
		gone := make(map[uint64]bool)
		for i := range perWriter {
			if i%3 == 2 {
				if d := uint64(r.IntN(i + 1)); d%3 != 2 {
					gone[d] = true
				}
			}
		}
		for i := range perWriter {
			k := uint64(w)<<32 | uint64(i)
			v, ok := m.Load(k)
			if ok == gone[uint64(i)] || ok && v != k {
				t.Fatalf("key %#x: %d, %v after the writers (deleted: %v)", k, v, ok, gone[uint64(i)])
			}
			if ok {
				want++
			}
		}
	}
	if m.Len() != want {
		t.Fatalf("Len %d, want %d", m.Len(), want)
	}
	if err := m.state().checkSegment(0); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d reshares", reshares.Load())
}

// TestReshareDeletesWithoutSeal: deletes (Delete and CompareAndDelete)
// that spend their stripes' shares of the shrink rule reshare them
// instead of sealing the table, and the rule stays exact: the table keeps
// every delete that leaves at least an eighth of its slots live, the last
// fifty made by one DeleteFunc (which seals for its own scan, so its
// reshares are checked by the count only), and shrinks at the next.
func TestReshareDeletesWithoutSeal(t *testing.T) {
	if invariants {
		t.Skip("a segmap_invariants build seals every table after every write to check it")
	}
	m := New[uint64, uint64](WithSegments(1))
	st := m.state()
	if !st.glock {
		t.Fatal("the map does not write with group locks: the test proves nothing")
	}
	const n, last = 20000, 50
	for k := range uint64(n) {
		m.Store(k, k)
	}
	_ = m.Stats() // seals once, and shares the rule out exactly
	s := &st.segs[0]
	tb := s.table.Load()
	floor := tb.Capacity() / 8
	if floor <= countStripes {
		t.Fatalf("setup: a table of %d slots", tb.Capacity())
	}
	seals, reshares := 0, 0
	testHookSeal = func(int) { seals++ }
	testHookReshareClosed = func() { reshares++ }
	defer func() { testHookSeal, testHookReshareClosed = nil, nil }()
	k := uint64(0)
	for live := n; live > floor+last; live-- {
		if k%2 == 0 {
			m.Delete(k)
		} else if !m.CompareAndDelete(k, k) {
			t.Fatalf("CompareAndDelete(%d) found no match", k)
		}
		k++
	}
	if seals != 0 {
		t.Fatalf("%d seals while deletes had room (%d reshares)", seals, reshares)
	}
	if reshares == 0 {
		t.Fatal("no reshare: the stripes never ran out of their shares, so the test proves nothing")
	}
	from := k
	m.DeleteFunc(func(key, _ uint64) bool { return key >= from && key < from+last })
	k += last
	if s.table.Load() != tb {
		t.Fatalf("the table was replaced before the shrink rule applied (%d live of %d slots)", m.Len(), tb.Capacity())
	}
	m.Delete(k)
	testHookSeal, testHookReshareClosed = nil, nil
	if s.table.Load() == tb {
		t.Fatalf("no shrink at the delete that left %d live of %d slots", floor-1, tb.Capacity())
	}
	if got := m.Len(); got != floor-1 {
		t.Fatalf("Len %d, want %d", got, floor-1)
	}
	for j := range uint64(n) {
		if v, ok := m.Load(j); ok != (j > k) || ok && v != j {
			t.Fatalf("key %d: %d, %v", j, v, ok)
		}
	}
}

// TestReshareTransientAddAtBound: a reshare that reads a stripe's used
// while another writer's failed insert is in it (its add, made after the
// close, fails its test and is given back after the read), on a table
// with no room left (used == MaxUsed). The hooks make exactly that
// writer's two atomic operations, in an order sequential consistency
// allows. The read then counts MaxUsed+1: a room clamped to zero, with
// the stripe's bound set from that read, would leave the stripe one
// insert the table does not have once the add is given back; the room
// must be closed instead, so that the next insert rebuilds.
func TestReshareTransientAddAtBound(t *testing.T) {
	if invariants {
		t.Skip("a segmap_invariants build seals every table after every write, so the stripes are shared out from exact counts")
	}
	m := New[int, int](WithSegments(1), WithCapacity(200))
	st := m.state()
	s := &st.segs[0]
	tb := s.table.Load()
	bound := tb.MaxUsed()
	for k := range bound {
		m.Store(k, k)
	}
	if s.table.Load() != tb || s.used.Load() != int64(bound) {
		t.Fatalf("setup: used %d of %d, table replaced: %v", s.used.Load(), bound, s.table.Load() != tb)
	}
	k := bound
	j := int(st.hasher.Hash(k) & uint64(tb.Groups()-1) & (countStripes - 1))
	cs := s.live.cs
	reshares, added := 0, false
	testHookReshareClosed = func() { // another writer's add, in the first reshare
		if reshares++; reshares == 1 {
			atomic.AddInt64(&cs[j].used, 1)
			added = true
		}
	}
	testHookQuotasRead = func() { // given back
		if added {
			atomic.AddInt64(&cs[j].used, -1)
			added = false
		}
	}
	defer func() { testHookReshareClosed, testHookQuotasRead = nil, nil }()
	m.Store(k, k)
	testHookReshareClosed, testHookQuotasRead = nil, nil
	if reshares == 0 {
		t.Fatal("no reshare: the test proves nothing")
	}
	st.lockSeg(0)
	used, nt := s.used.Load(), s.table.Load()
	st.unlockSeg(0)
	if used > int64(nt.MaxUsed()) {
		t.Fatalf("used %d, beyond the load bound %d (table replaced: %v)", used, nt.MaxUsed(), nt != tb)
	}
	if nt == tb {
		t.Fatal("the insert beyond the load bound did not rebuild")
	}
	if err := st.checkSegment(0); err != nil {
		t.Fatal(err)
	}
	if m.Len() != bound+1 {
		t.Fatalf("Len %d, want %d", m.Len(), bound+1)
	}
}
