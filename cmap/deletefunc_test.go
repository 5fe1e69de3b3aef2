package cmap_test

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/segmap/segmap/cmap"
)

// deleteFuncConfigs are the configurations DeleteFunc is tested on: both
// layouts, insertion order and both bounds, each with an OnEvict function
// that must never be called by DeleteFunc.
func deleteFuncConfigs(evicted *atomic.Int64) map[string][]cmap.Option {
	onEvict := cmap.WithOnEvict(func(uint64, uint64) { evicted.Add(1) })
	return map[string][]cmap.Option{
		"default":      {cmap.WithSegments(4)},
		"ordered":      {cmap.WithSegments(4), cmap.WithInsertionOrder()},
		"evict-oldest": {cmap.WithSegments(4), cmap.WithMaxLen(2000, cmap.EvictOldest), onEvict},
		"reject-new":   {cmap.WithSegments(4), cmap.WithMaxLen(1000, cmap.RejectNew)},
	}
}

// forEachLayout runs f on the flat layout (uint64 keys and values, when
// the options allow it) and on the entry layout.
func forEachLayout(t *testing.T, f func(t *testing.T)) {
	t.Run("flat", f)
	t.Run("entry", func(t *testing.T) {
		cmap.ForceEntryLayout(true)
		defer cmap.ForceEntryLayout(false)
		f(t)
	})
}

func TestDeleteFunc(t *testing.T) {
	var evicted atomic.Int64
	for name, opts := range deleteFuncConfigs(&evicted) {
		t.Run(name, func(t *testing.T) {
			forEachLayout(t, func(t *testing.T) {
				evicted.Store(0)
				m := cmap.New[uint64, uint64](opts...)
				for k := range uint64(1000) {
					m.Store(k, k*10)
				}
				seen := make(map[uint64]bool)
				n := m.DeleteFunc(func(k, v uint64) bool {
					if seen[k] {
						t.Errorf("del given key %d twice", k)
					}
					seen[k] = true
					if v != k*10 {
						t.Errorf("del given (%d, %d), want value %d", k, v, k*10)
					}
					return k%2 == 0
				})
				if n != 500 || len(seen) != 1000 {
					t.Fatalf("DeleteFunc deleted %d of %d entries seen, want 500 of 1000", n, len(seen))
				}
				if m.Len() != 500 {
					t.Fatalf("Len = %d after deleting 500 of 1000, want 500", m.Len())
				}
				for k := range uint64(1000) {
					v, ok := m.Load(k)
					if want := k%2 == 1; ok != want || ok && v != k*10 {
						t.Fatalf("Load(%d) = (%d, %t), want present %t with %d", k, v, ok, want, k*10)
					}
				}
				if err := m.CheckInvariants(); err != nil {
					t.Fatal(err)
				}
				if n := m.DeleteFunc(func(k, _ uint64) bool { return k%2 == 0 }); n != 0 {
					t.Fatalf("a second DeleteFunc of the same keys deleted %d, want 0", n)
				}
				if evicted.Load() != 0 {
					t.Fatalf("OnEvict called %d times by DeleteFunc, want 0", evicted.Load())
				}
				// The deletions made room: a RejectNew map at its bound
				// takes 500 new keys again, and no more.
				for k := uint64(1000); k < 1500; k++ {
					if err := m.TryStore(k, k*10); err != nil {
						t.Fatalf("TryStore(%d) after DeleteFunc freed room: %v", k, err)
					}
				}
				if strings.HasPrefix(name, "reject") {
					if err := m.TryStore(5000, 1); err == nil {
						t.Fatal("TryStore into a full RejectNew map succeeded")
					}
				}
				if n := m.DeleteFunc(func(uint64, uint64) bool { return true }); n != 1000 || m.Len() != 0 {
					t.Fatalf("deleting everything: %d deleted, Len %d; want 1000, 0", n, m.Len())
				}
				if err := m.CheckInvariants(); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

func TestDeleteFuncKeepsOrder(t *testing.T) {
	m := cmap.New[uint64, uint64](cmap.WithInsertionOrder(), cmap.WithSegments(4))
	for k := range uint64(100) {
		m.Store(k, k)
	}
	m.DeleteFunc(func(k, _ uint64) bool { return k%3 != 0 })
	var got []uint64
	for k := range m.Snapshot().InOrder() {
		got = append(got, k)
	}
	var want []uint64
	for k := uint64(0); k < 100; k += 3 {
		want = append(want, k)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("order after DeleteFunc = %v, want %v", got, want)
	}
	if k, _, _ := m.Oldest(); k != 0 {
		t.Fatalf("Oldest = %d, want 0", k)
	}
	if k, _, _ := m.Newest(); k != 99 {
		t.Fatalf("Newest = %d, want 99", k)
	}
}

// TestDeleteFuncRestoredMeanwhile stores a key again while del runs for
// it (del itself does, which it may, since it runs with no lock held): the
// entry stored meanwhile must not be deleted on the strength of the value
// del saw. On the flat layout an identical value stored again cannot be
// told apart and is deleted; on the entry layout it is a new entry and is
// kept.
func TestDeleteFuncRestoredMeanwhile(t *testing.T) {
	forEachLayout(t, func(t *testing.T) {
		entry := strings.HasSuffix(t.Name(), "entry")
		m := cmap.New[uint64, uint64](cmap.WithSegments(2))
		for k := range uint64(100) {
			m.Store(k, 1)
		}
		n := m.DeleteFunc(func(k, v uint64) bool {
			switch k % 4 {
			case 0:
				m.Store(k, 2) // a new value: never deleted
			case 1:
				m.Store(k, 1) // the same value again
			case 2:
				m.Delete(k) // already gone: not counted
			}
			return v == 1
		})
		wantN := 50 // keys 1 mod 4 (flat only) and 3 mod 4
		if entry {
			wantN = 25
		}
		if n != wantN {
			t.Fatalf("DeleteFunc = %d, want %d", n, wantN)
		}
		for k := range uint64(100) {
			v, ok := m.Load(k)
			var want bool
			switch k % 4 {
			case 0:
				want = true
				if v != 2 {
					t.Fatalf("key %d: value %d, want 2", k, v)
				}
			case 1:
				want = entry
			}
			if ok != want {
				t.Fatalf("key %d (k%%4 = %d) present %t, want %t", k, k%4, ok, want)
			}
		}
		if err := m.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDeleteFuncBits checks the flat layout's comparison: NaN values are
// deleted (NaN != NaN, but the bits are the same), -0 stored over 0 is a
// change, and padding bytes do not count.
func TestDeleteFuncBits(t *testing.T) {
	m := cmap.New[int, float64]()
	m.Store(1, math.NaN())
	m.Store(2, 0)
	m.Store(3, 1)
	n := m.DeleteFunc(func(k int, v float64) bool {
		if k == 2 {
			m.Store(2, math.Copysign(0, -1))
		}
		return math.IsNaN(v) || v == 0
	})
	if n != 1 || m.Len() != 2 {
		t.Fatalf("DeleteFunc = %d, Len %d; want 1 (the NaN), 2", n, m.Len())
	}
	if v, ok := m.Load(2); !ok || !math.Signbit(v) {
		t.Fatalf("Load(2) = (%v, %t), want (-0, true): -0 was stored after del saw +0", v, ok)
	}

	type padded struct {
		a uint8
		b uint64
		c uint16
	}
	p := cmap.New[uint32, padded]()
	if p.Stats().Layout != "flat" {
		t.Skipf("layout %q, want flat", p.Stats().Layout)
	}
	for k := range uint32(64) {
		p.Store(k, padded{uint8(k), uint64(k) << 40, uint16(k)})
	}
	if n := p.DeleteFunc(func(k uint32, v padded) bool { return v.a%2 == 0 }); n != 32 {
		t.Fatalf("padded values: DeleteFunc = %d, want 32", n)
	}
}

// TestDeleteFuncNaNKey: a NaN key is given to del but cannot be found by
// key, so it is not deleted and not counted (the godoc says so).
func TestDeleteFuncNaNKey(t *testing.T) {
	forEachLayout(t, func(t *testing.T) {
		m := cmap.New[float64, int]()
		m.Store(math.NaN(), 1)
		m.Store(1, 1)
		calls := 0
		n := m.DeleteFunc(func(float64, int) bool { calls++; return true })
		if calls != 2 || n != 1 || m.Len() != 1 {
			t.Fatalf("calls %d, deleted %d, Len %d; want 2, 1, 1", calls, n, m.Len())
		}
	})
}

func TestDeleteFuncEdges(t *testing.T) {
	var zero cmap.Map[string, int]
	if n := zero.DeleteFunc(func(string, int) bool { return true }); n != 0 {
		t.Fatalf("zero Map: DeleteFunc = %d, want 0", n)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "cmap: DeleteFunc: nil func") {
				t.Fatalf("DeleteFunc(nil) panicked with %v, want cmap: DeleteFunc: nil func", r)
			}
		}()
		zero.DeleteFunc(nil)
	}()

	// A snapshot keeps what DeleteFunc deletes.
	m := cmap.New[string, int]()
	for i := range 100 {
		m.Store(fmt.Sprint(i), i)
	}
	snap := m.Snapshot()
	if n := m.DeleteFunc(func(_ string, v int) bool { return v < 90 }); n != 90 {
		t.Fatalf("DeleteFunc = %d, want 90", n)
	}
	if snap.Len() != 100 || m.Len() != 10 {
		t.Fatalf("snapshot Len %d, map Len %d; want 100, 10", snap.Len(), m.Len())
	}

	// del may call DeleteFunc itself (no lock is held).
	n := m.DeleteFunc(func(k string, _ int) bool {
		m.DeleteFunc(func(k2 string, _ int) bool { return k2 == "95" })
		return k == "91"
	})
	if m.Len() != 8 || n != 1 {
		t.Fatalf("nested DeleteFunc: Len %d, outer count %d; want 8, 1", m.Len(), n)
	}
}

// TestDeleteFuncPanic: a del that panics leaves the entries deleted so far
// deleted, deletes nothing else, and leaves no lock held and no segment
// pinned.
func TestDeleteFuncPanic(t *testing.T) {
	forEachLayout(t, func(t *testing.T) {
		m := cmap.New[uint64, uint64](cmap.WithSegments(4), cmap.WithInsertionOrder())
		for k := range uint64(400) {
			m.Store(k, k)
		}
		calls := 0
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Fatalf("recovered %v, want boom", r)
				}
			}()
			m.DeleteFunc(func(k, _ uint64) bool {
				if calls++; calls == 250 {
					panic("boom")
				}
				return true
			})
		}()
		// Segments are visited whole before their deletions: the segments
		// done before the panicking one are gone, the rest are intact.
		if n := m.Len(); n == 0 || n == 400 {
			t.Fatalf("Len = %d after a panic on the 250th call, want some deleted, not all", n)
		}
		if got := len(m.LockedSegments()); got != 0 {
			t.Fatalf("%d segments locked after the panic", got)
		}
		for k := range uint64(400) {
			m.Store(k, k+1)
		}
		if err := m.CheckInvariants(); err != nil {
			t.Fatal(err)
		}
		if n := m.DeleteFunc(func(k, v uint64) bool { return v == k+1 }); n != 400 {
			t.Fatalf("DeleteFunc after the panic = %d, want 400", n)
		}
	})
}

// TestDeleteFuncConcurrent: writers store each key's values in turn,
// fresh then expired, while sweepers delete expired values with
// DeleteFunc. A fresh value must never be deleted, and the counts must
// add up: every expired value is deleted once, by a sweep.
func TestDeleteFuncConcurrent(t *testing.T) {
	forEachLayout(t, func(t *testing.T) {
		const writers, keysEach = 4, 64
		rounds := 200
		if testing.Short() {
			rounds = 50
		}
		m := cmap.New[uint64, uint64](cmap.WithSegments(4))
		var swept atomic.Int64
		var stop atomic.Bool
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for !stop.Load() {
					swept.Add(int64(m.DeleteFunc(func(_, v uint64) bool { return v&1 == 1 })))
					runtime.Gosched()
				}
			})
		}
		var absent atomic.Int64 // expired values found gone by the next Swap
		var ww sync.WaitGroup
		for w := range uint64(writers) {
			ww.Go(func() {
				for r := range uint64(rounds) {
					for i := range uint64(keysEach) {
						k := w*keysEach + i
						fresh, expired := (r+1)<<1, (r+1)<<1|1
						prev, loaded := m.Swap(k, fresh)
						switch {
						case !loaded && r > 0:
							absent.Add(1)
						case loaded && prev != r<<1|1:
							t.Errorf("key %d round %d: Swap found %#x, want %#x (expired) or nothing", k, r, prev, r<<1|1)
						}
						runtime.Gosched() // a sweep may run meanwhile
						if v, ok := m.Load(k); !ok || v != fresh {
							t.Errorf("key %d: fresh value %#x deleted or changed: Load = (%#x, %t)", k, fresh, v, ok)
							return
						}
						if p, ok := m.Swap(k, expired); !ok || p != fresh {
							t.Errorf("key %d: fresh value %#x deleted or changed: Swap = (%#x, %t)", k, fresh, p, ok)
							return
						}
					}
				}
			})
		}
		ww.Wait()
		stop.Store(true)
		wg.Wait()
		swept.Add(int64(m.DeleteFunc(func(_, v uint64) bool { return v&1 == 1 })))
		if m.Len() != 0 {
			t.Fatalf("Len = %d after the last sweep, want 0", m.Len())
		}
		if want := absent.Load() + writers*keysEach; swept.Load() != want {
			t.Fatalf("DeleteFunc counted %d deletions, want %d (expired values found gone) + %d (the last ones)",
				swept.Load(), absent.Load(), writers*keysEach)
		}
	})
}

// An expiry sweep: delete the sessions not seen since a deadline. Each
// deletion checks that the session was not refreshed after the predicate
// saw it.
func ExampleMap_DeleteFunc() {
	type session struct{ lastSeen int64 }
	sessions := cmap.New[string, session]()
	sessions.Store("ann", session{lastSeen: 100})
	sessions.Store("bob", session{lastSeen: 250})
	sessions.Store("cid", session{lastSeen: 90})

	deadline := int64(200)
	n := sessions.DeleteFunc(func(_ string, s session) bool {
		return s.lastSeen < deadline
	})
	_, bob := sessions.Load("bob")
	fmt.Println(n, sessions.Len(), bob)
	// Output: 2 1 true
}

// BenchmarkDeleteFunc: one expiry sweep over 1e5 entries that deletes a
// tenth of them, then stores those again, for cmap's DeleteFunc beside
// xsync v4's DeleteMatching and sync.Map's Range plus CompareAndDelete.
//
//	go test ./cmap -run '^$' -bench DeleteFunc
func BenchmarkDeleteFunc(b *testing.B) {
	const n = 100_000
	expired := func(k uint64) bool { return k%10 == 0 }
	b.Run("map=cmap", func(b *testing.B) {
		m := cmap.New[uint64, uint64]()
		for k := range uint64(n) {
			m.Store(k, k)
		}
		for b.Loop() {
			if d := m.DeleteFunc(func(k, _ uint64) bool { return expired(k) }); d != n/10 {
				b.Fatalf("deleted %d", d)
			}
			for k := uint64(0); k < n; k += 10 {
				m.Store(k, k)
			}
		}
	})
	b.Run("map=xsync4", func(b *testing.B) {
		m := xsync.NewMap[uint64, uint64]()
		for k := range uint64(n) {
			m.Store(k, k)
		}
		for b.Loop() {
			if d := m.DeleteMatching(func(k, _ uint64) (bool, bool) { return expired(k), false }); d != n/10 {
				b.Fatalf("deleted %d", d)
			}
			for k := uint64(0); k < n; k += 10 {
				m.Store(k, k)
			}
		}
	})
	b.Run("map=syncmap", func(b *testing.B) {
		var m sync.Map
		for k := range uint64(n) {
			m.Store(k, k)
		}
		for b.Loop() {
			m.Range(func(k, v any) bool {
				if expired(k.(uint64)) {
					m.CompareAndDelete(k, v)
				}
				return true
			})
			for k := uint64(0); k < n; k += 10 {
				m.Store(k, k)
			}
		}
	})
}

// TestDeleteFuncKeyBits: on the flat layout, "the value del was given"
// means the same key and value bits (the godoc), and an overwrite stores
// the written key's bits: -0 stored over the key +0 with the same value
// while del runs is a new store, which DeleteFunc must not delete.
func TestDeleteFuncKeyBits(t *testing.T) {
	m := cmap.New[float64, int]()
	if m.Stats().Layout != "flat" {
		t.Skipf("layout %q, want flat", m.Stats().Layout)
	}
	negZero := math.Copysign(0, -1)
	m.Store(0, 1)
	n := m.DeleteFunc(func(k float64, v int) bool {
		if !math.Signbit(k) {
			m.Store(negZero, 1) // same value, other key bits
		}
		return true
	})
	if n != 0 || m.Len() != 1 {
		t.Fatalf("DeleteFunc = %d, Len %d; want 0, 1: -0 was stored after del saw +0", n, m.Len())
	}
	m.Range(func(k float64, _ int) bool {
		if !math.Signbit(k) {
			t.Errorf("key %v, want -0", k)
		}
		return true
	})
}
