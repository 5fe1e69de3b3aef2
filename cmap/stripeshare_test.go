package cmap

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentDeletesTakeOneShare: two group-lock deletes of keys in
// different groups of one count stripe, whose share of the shrink rule
// (setQuotas) has room for one delete only, with every other stripe's
// share spent. Each holds its own group lock, so nothing else serialises
// them: unless the share is taken with one atomic step, both pass the
// test, both delete, and the table is left below the shrink rule with no
// rebuild. Both are held at testHookDeleteTaken, which a group-lock
// delete reaches once it has taken its share, with its locks held; the
// second must not reach it, but (after a reshare that finds no share left)
// take the segment lock, whose holder
// applies the rule. Run for a one-word shape
// (the light writes of flatwrite.go) and a two-word key (gopen's path),
// through Delete, LoadAndDelete and CompareAndDelete; and a
// CompareAndDelete whose compare fails must take no share.
func TestConcurrentDeletesTakeOneShare(t *testing.T) {
	if invariants {
		t.Skip("a segmap_invariants build shares the quotas out again after every write, so no stripe keeps a single share")
	}
	type pair struct{ a, b int }
	del := map[string]func(m *Map[int, int], k int){
		"Delete":           func(m *Map[int, int], k int) { m.Delete(k) },
		"LoadAndDelete":    func(m *Map[int, int], k int) { m.LoadAndDelete(k) },
		"CompareAndDelete": func(m *Map[int, int], k int) { m.CompareAndDelete(k, k) },
	}
	for name, d := range del {
		t.Run("one-word/"+name, func(t *testing.T) {
			deletesTakeOneShare(t, func(k int) int { return k }, IdentityHash, func(m *Map[int, int], k int) { d(m, k) })
		})
	}
	t.Run("two-word/Delete", func(t *testing.T) {
		deletesTakeOneShare(t, func(k int) pair { return pair{k, -k} },
			func(seed uint64, k pair) uint64 { return IdentityHash(seed, k.a) },
			func(m *Map[pair, int], k int) { m.Delete(pair{k, -k}) })
	})
	t.Run("two-word/CompareAndDelete", func(t *testing.T) {
		deletesTakeOneShare(t, func(k int) pair { return pair{k, -k} },
			func(seed uint64, k pair) uint64 { return IdentityHash(seed, k.a) },
			func(m *Map[pair, int], k int) { m.CompareAndDelete(pair{k, -k}, k) })
	})
	t.Run("failed compare takes no share", func(t *testing.T) {
		// The locked steps themselves, with an old value that differs:
		// CompareAndDelete's lock-free compare would stop such a call
		// before, and a value changed between the two is what reaches
		// them. Neither may count a delete that does not happen: not
		// after (a share not given back), and in the light write not
		// while it holds the lock either (a share taken before the
		// compare, which a racing Len would see), checked from the
		// hook that runs there.
		m, st, _, _ := shareSetup(t, func(k int) int { return k }, IdentityHash)
		pm, pst, _, _ := shareSetup(t, func(k int) pair { return pair{k, -k} },
			func(seed uint64, k pair) uint64 { return IdentityHash(seed, k.a) })
		sl, psl := st.slotOf(st.rd.Load(), 0), pst.slotOf(pst.rd.Load(), 0)
		var before, pbefore [countStripes]int64
		for i := range countStripes {
			before[i], pbefore[i] = sl.cs[i].live, psl.cs[i].live
		}
		hooked := 0
		testHookGroupLocked = func(key any) {
			if _, ok := key.(int); ok {
				hooked++
				for i := range countStripes {
					if sl.cs[i].live != before[i] {
						t.Errorf("stripe %d: live %d inside a CompareAndDelete whose compare fails, %d before", i, sl.cs[i].live, before[i])
					}
				}
			}
		}
		defer func() { testHookGroupLocked = nil }()
		n, pn := m.Len(), pm.Len()
		for k := range shareKeys {
			if _, ok, done := st.fwrite("CompareAndDelete", fCompareDelete, k, st.hasher.Hash(k), 0, k+1, false, nil); done && ok {
				t.Fatalf("key %d deleted with another old value", k)
			}
			key := pair{k, -k}
			if pst.compareAndDeleteEngine(key, pst.hasher.Hash(key), &hint[pair, int]{}, k+1) {
				t.Fatalf("key %v deleted with another old value", key)
			}
		}
		testHookGroupLocked = nil
		if hooked == 0 {
			t.Fatal("no light CompareAndDelete reached its locked step: the test proves nothing")
		}
		for i := range countStripes {
			if sl.cs[i].live != before[i] || psl.cs[i].live != pbefore[i] {
				t.Fatalf("stripe %d: live %d and %d after failed compares, %d and %d before",
					i, sl.cs[i].live, psl.cs[i].live, before[i], pbefore[i])
			}
		}
		if m.Len() != n || pm.Len() != pn {
			t.Fatalf("Len %d and %d after failed compares, %d and %d before", m.Len(), pm.Len(), n, pn)
		}
	})
}

// shareKeys is the number of keys shareSetup stores.
const shareKeys = 90

// shareSetup returns a one-segment group-lock map whose key k (made by
// mk) has home group k mod its table's groups (hash gives the map the
// hash k), filled with shareKeys keys, then emptied by deletes until
// every stripe's share of the shrink rule is spent but stripe 1's, which
// keeps room for one delete; and two present keys of stripe 1 in
// different groups.
func shareSetup[K comparable](t *testing.T, mk func(int) K, hash func(uint64, K) uint64) (*Map[K, int], *state[K, int], int, int) {
	t.Helper()
	m := New[K, int](WithSegments(1), WithHasher(hash))
	for k := range shareKeys {
		m.Store(mk(k), k)
	}
	_ = m.Stats() // seals and unseals: the quotas are shared out from the exact count
	st := m.state()
	if !st.glock {
		t.Fatal("the map does not write with group locks: the test proves nothing")
	}
	s := &st.segs[0]
	sl := st.slotOf(st.rd.Load(), 0)
	tb := s.table.Load()
	mask := tb.Groups() - 1
	stripe := func(k int) int { return k & mask & (countStripes - 1) }
	present := make(map[int]bool)
	for k := range shareKeys {
		present[k] = true
	}
	const target = 1
	for i := range countStripes {
		keep := int64(0)
		if i == target {
			keep = 1
		}
		c := &sl.cs[i]
		for k := range shareKeys {
			if atomic.LoadInt64(&c.live)-atomic.LoadInt64(&c.liveMin) <= keep {
				break
			}
			if stripe(k) == i {
				m.Delete(mk(k))
				delete(present, k)
			}
		}
		if got := atomic.LoadInt64(&c.live) - atomic.LoadInt64(&c.liveMin); got != keep {
			t.Fatalf("setup: stripe %d has room for %d deletes, want %d", i, got, keep)
		}
	}
	if s.table.Load() != tb {
		t.Fatal("setup: the table was replaced")
	}
	k1, k2 := -1, -1
	for k := range shareKeys {
		if !present[k] || stripe(k) != target {
			continue
		}
		if k1 < 0 {
			k1 = k
		} else if k&mask != k1&mask {
			k2 = k
			break
		}
	}
	if k2 < 0 {
		t.Fatal("setup: no two present keys of the stripe in different groups")
	}
	return m, st, k1, k2
}

// deletesTakeOneShare runs the two held deletes of
// TestConcurrentDeletesTakeOneShare with del, and checks the shrink rule
// after them.
func deletesTakeOneShare[K comparable](t *testing.T, mk func(int) K, hash func(uint64, K) uint64, del func(m *Map[K, int], k int)) {
	m, st, k1, k2 := shareSetup(t, mk, hash)
	var arrived atomic.Int32
	gate := make(chan struct{})
	testHookDeleteTaken = func(key any) {
		if k := key.(K); k == mk(k1) || k == mk(k2) {
			arrived.Add(1)
			<-gate
		}
	}
	defer func() { testHookDeleteTaken = nil }()
	var wg sync.WaitGroup
	for _, k := range []int{k1, k2} {
		wg.Go(func() { del(m, k) })
	}
	// With the share taken atomically one delete holds its group lock in
	// the hook and the other waits for it in the segment-lock path,
	// forever until the gate opens: give the second time to arrive.
	deadline := time.Now().Add(5 * time.Second)
	for arrived.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if arrived.Load() == 0 {
		close(gate)
		wg.Wait()
		t.Fatal("no delete took a share (testHookDeleteTaken): the test proves nothing")
	}
	time.Sleep(300 * time.Millisecond)
	both := arrived.Load() == 2
	close(gate)
	wg.Wait()
	testHookDeleteTaken = nil
	if both {
		t.Error("both deletes passed the stripe's share of the shrink rule, which had room for one")
	}
	for _, k := range []int{k1, k2} {
		if _, ok := m.Load(mk(k)); ok {
			t.Errorf("key %d still present after its delete", k)
		}
	}
	s := &st.segs[0]
	tb := s.table.Load()
	if n := m.Len(); n < tb.Capacity()/8 && tb.Groups() > s.minGroups {
		t.Errorf("%d live in a table of %d groups (%d slots): the delete went past the shrink rule", n, tb.Groups(), tb.Capacity())
	}
	if err := m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}
