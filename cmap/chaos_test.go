package cmap_test

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/segmap/segmap/cmap"
	"github.com/segmap/segmap/snapshot"
)

// TestChaosModel drives every write method, PopOldest, Reserve, Clear,
// Stats and Snapshot in random order against a plain map (with insertion
// order and the bound modeled), under a hasher that panics at a chosen
// call of some operations: a call after the first is one made by a
// rebuild (grow, clean, shrink, copy after a snapshot, Reserve), since an
// operation hashes its own key once, first. Callbacks panic or fail now
// and then too. The strong guarantee is checked after each operation: one
// that panicked left the map exactly as the model (entries, order,
// evictions), no lock held, CheckInvariants clean; one that returned
// returned what the model says. Snapshots taken along the way must never
// change.
func TestChaosModel(t *testing.T) {
	configs := []struct {
		name string
		segs int
		max  int
		pol  cmap.BoundPolicy
		ord  bool
	}{
		{"plain/1", 1, 0, 0, false},
		{"plain/4", 4, 0, 0, false},
		{"ordered/2", 2, 0, 0, true},
		{"EvictOldest/1", 1, 12, cmap.EvictOldest, true},
		{"EvictOldest/4", 4, 12, cmap.EvictOldest, true},
		{"RejectNew/2", 2, 12, cmap.RejectNew, false},
		{"RejectNew+order/1", 1, 12, cmap.RejectNew, true},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			seeds, steps := uint64(3), 4000
			if raceEnabled { // single goroutine: the race detector only slows it
				seeds, steps = 1, 2000
			}
			for seed := uint64(1); seed <= seeds; seed++ {
				r := newChaosRun(t, seed, c.segs, c.max, c.pol, c.ord)
				r.run(steps)
				if r.rebuildPanics < steps/80 {
					t.Fatalf("seed %d: only %d panics during rebuilds, want %d", seed, r.rebuildPanics, steps/80)
				}
				t.Logf("seed %d: %d panics during rebuilds", seed, r.rebuildPanics)
			}
		})
	}
}

// chaosPanic is what the chaos hasher panics with.
type chaosPanic struct{}

// callbackPanic is what a chaos callback panics with.
type callbackPanic struct{}

var errChaos = errors.New("chaos: backend failed")

const chaosKeys = 24

type chaosRun struct {
	t    *testing.T
	rng  *rand.Rand
	m    *cmap.Map[int, int]
	max  int
	pol  cmap.BoundPolicy
	ord  bool
	seed uint64

	// The hasher panics at its armed-th call (counting from 1) while
	// armed > 0. Single goroutine: plain fields.
	calls, armed int

	// The model: vals, and order (oldest first) if the map keeps it.
	vals    map[int]int
	order   []int
	evicted [][2]int // OnEvict calls since the last check
	want    [][2]int // evictions the model expects since the last check

	snaps []heldSnapshot
	step  int
	op    string
	// rebuildPanics counts the panics of a hash after an operation's own
	// (a rebuild's), to make sure the test reaches them.
	rebuildPanics int
}

// heldSnapshot is a snapshot and the model at its instant.
type heldSnapshot struct {
	s     *snapshot.Snapshot[int, int]
	vals  map[int]int
	order []int
}

func newChaosRun(t *testing.T, seed uint64, segs, max int, pol cmap.BoundPolicy, ord bool) *chaosRun {
	r := &chaosRun{t: t, rng: rand.New(rand.NewPCG(seed, 0xc4a05)), max: max, pol: pol, ord: ord, seed: seed, vals: map[int]int{}}
	opts := []cmap.Option{cmap.WithSegments(segs), cmap.WithHasher(func(_ uint64, k int) uint64 {
		r.calls++
		if r.armed > 0 && r.calls == r.armed {
			panic(chaosPanic{})
		}
		return goldenHash(k)
	})}
	if ord && pol == 0 || ord && pol == cmap.RejectNew {
		opts = append(opts, cmap.WithInsertionOrder())
	}
	if max > 0 {
		opts = append(opts, cmap.WithMaxLen(max, pol))
	}
	if pol == cmap.EvictOldest {
		opts = append(opts, cmap.WithOnEvict(func(k, v int) { r.evicted = append(r.evicted, [2]int{k, v}) }))
	}
	r.m = cmap.New[int, int](opts...)
	return r
}

func (r *chaosRun) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("seed %d step %d %s: %s", r.seed, r.step, r.op, fmt.Sprintf(format, args...))
}

// outcome is how an operation ended.
type outcome int

const (
	returned outcome = iota
	chaosPanicked
	callbackPanicked
	fullPanicked
)

// call runs f and classifies its end; any other panic fails the test.
func (r *chaosRun) call(f func()) (o outcome) {
	r.t.Helper()
	defer func() {
		p := recover()
		armed := r.armed
		r.armed = 0
		switch p := p.(type) {
		case nil:
		case chaosPanic:
			o = chaosPanicked
			if armed > 1 {
				r.rebuildPanics++ // a hash after the operation's own
			}
		case callbackPanic:
			o = callbackPanicked
		case error:
			if !errors.Is(p, cmap.ErrFull) {
				r.fatalf("unexpected panic: %v", p)
			}
			o = fullPanicked
		default:
			r.fatalf("unexpected panic: %v", p)
		}
	}()
	f()
	return returned
}

// full reports whether inserting the absent key k must evict or fail.
func (r *chaosRun) full(k int) bool {
	_, ok := r.vals[k]
	return !ok && r.max > 0 && len(r.vals) == r.max
}

// publish is the model's store of (k, v): evict if needed, then move k to
// the newest position.
func (r *chaosRun) publish(k, v int) {
	if r.full(k) && r.pol == cmap.EvictOldest {
		old := r.order[0]
		r.want = append(r.want, [2]int{old, r.vals[old]})
		r.remove(old)
	}
	r.vals[k] = v
	if r.ord {
		r.order = slices.DeleteFunc(r.order, func(x int) bool { return x == k })
		r.order = append(r.order, k)
	}
}

func (r *chaosRun) remove(k int) {
	delete(r.vals, k)
	if r.ord {
		r.order = slices.DeleteFunc(r.order, func(x int) bool { return x == k })
	}
}

// rejects reports whether storing k must fail with ErrFull.
func (r *chaosRun) rejects(k int) bool { return r.full(k) && r.pol == cmap.RejectNew }

func (r *chaosRun) run(steps int) {
	for r.step = 0; r.step < steps; r.step++ {
		k, v := r.rng.IntN(chaosKeys), r.rng.IntN(1000)
		r.calls, r.armed = 0, 0
		if r.rng.IntN(10) < 4 {
			r.armed = 1 + r.rng.IntN(12) // 1: the operation's own hash
		}
		r.randomOp(k, v)
		r.armed = 0
		r.verify()
		if r.step%50 == 0 {
			r.verifySnapshots()
		}
	}
	r.verifySnapshots()
}

// expect fails unless got equals want (when the operation returned).
func (r *chaosRun) expect(o outcome, got, want any) {
	r.t.Helper()
	if o == returned && fmt.Sprint(got) != fmt.Sprint(want) {
		r.fatalf("returned %v, want %v", got, want)
	}
}

func (r *chaosRun) randomOp(k, v int) {
	m := r.m
	old, present := r.vals[k]
	cb := r.rng.IntN(4) // callbacks: 0 panics, 1 fails (LoadOrTryCompute), else succeeds
	switch n := r.rng.IntN(21); n {
	case 0, 1:
		r.op = fmt.Sprintf("Store(%d, %d)", k, v)
		if o := r.call(func() { m.Store(k, v) }); o == returned {
			r.publish(k, v)
		} else if o == fullPanicked && !r.rejects(k) {
			r.fatalf("ErrFull with %d of %d entries", len(r.vals), r.max)
		}
	case 2:
		r.op = fmt.Sprintf("Swap(%d, %d)", k, v)
		var got [2]any
		o := r.call(func() { p, l := m.Swap(k, v); got = [2]any{p, l} })
		r.expect(o, got, [2]any{old, present})
		if o == returned {
			r.publish(k, v)
		}
	case 3:
		r.op = fmt.Sprintf("TryStore(%d, %d)", k, v)
		var err error
		o := r.call(func() { err = m.TryStore(k, v) })
		if o == returned {
			if got, want := err != nil, r.rejects(k); got != want || err != nil && !errors.Is(err, cmap.ErrFull) {
				r.fatalf("error %v; want ErrFull: %v", err, want)
			}
			if err == nil {
				r.publish(k, v)
			}
		}
	case 4:
		r.op = fmt.Sprintf("LoadOrStore(%d, %d)", k, v)
		var got [2]any
		o := r.call(func() { a, l := m.LoadOrStore(k, v); got = [2]any{a, l} })
		if present {
			r.expect(o, got, [2]any{old, true})
		} else {
			r.expect(o, got, [2]any{v, false})
			if o == returned {
				r.publish(k, v)
			}
		}
	case 5:
		r.op = fmt.Sprintf("LoadOrCompute(%d, %d) cb %d", k, v, cb)
		var got [2]any
		o := r.call(func() {
			a, l := m.LoadOrCompute(k, func() int {
				if cb == 0 {
					panic(callbackPanic{})
				}
				return v
			})
			got = [2]any{a, l}
		})
		if present {
			r.expect(o, got, [2]any{old, true})
		} else if cb != 0 || o != callbackPanicked {
			r.expect(o, got, [2]any{v, false})
			if o == returned {
				r.publish(k, v)
			}
		}
	case 6:
		r.op = fmt.Sprintf("LoadOrTryCompute(%d, %d) cb %d", k, v, cb)
		var got [3]any
		o := r.call(func() {
			a, l, err := m.LoadOrTryCompute(k, func() (int, error) {
				switch cb {
				case 0:
					panic(callbackPanic{})
				case 1:
					return v, errChaos
				}
				return v, nil
			})
			got = [3]any{a, l, err}
		})
		switch {
		case present:
			r.expect(o, got, [3]any{old, true, nil})
		case cb == 1:
			r.expect(o, got, [3]any{0, false, errChaos})
		case cb != 0 && r.rejects(k):
			// The error wrapping ErrFull is returned, not panicked.
			if err, _ := got[2].(error); o == fullPanicked || o == returned && (got[0] != 0 || got[1] != false || !errors.Is(err, cmap.ErrFull)) {
				r.fatalf("outcome %v, returned %v; want [0 false] and an error wrapping ErrFull", o, got)
			}
		case cb != 0:
			r.expect(o, got, [3]any{v, false, nil})
			if o == returned {
				r.publish(k, v)
			}
		}
	case 7, 8:
		op := cmap.ComputeOp(r.rng.IntN(3))
		r.op = fmt.Sprintf("Compute(%d, %d) %v cb %d", k, v, op, cb)
		var got [2]any
		calls := 0
		o := r.call(func() {
			a, ok := m.Compute(k, func(o int, l bool) (int, cmap.ComputeOp) {
				calls++
				if o != old || l != present {
					r.fatalf("f saw (%d, %v), want (%d, %v)", o, l, old, present)
				}
				if cb == 0 {
					panic(callbackPanic{})
				}
				return v, op
			})
			got = [2]any{a, ok}
		})
		if calls > 1 {
			r.fatalf("f ran %d times", calls)
		}
		switch {
		case o == callbackPanicked:
		case op == cmap.UpdateOp:
			r.expect(o, got, [2]any{v, true})
			if o == returned {
				r.publish(k, v)
			}
		case op == cmap.DeleteOp:
			r.expect(o, got, [2]any{old, false})
			if o == returned {
				r.remove(k)
			}
		default:
			r.expect(o, got, [2]any{old, present})
		}
	case 9, 10:
		r.op = fmt.Sprintf("LoadAndDelete(%d)", k)
		var got [2]any
		o := r.call(func() { a, l := m.LoadAndDelete(k); got = [2]any{a, l} })
		r.expect(o, got, [2]any{old, present})
		if o == returned {
			r.remove(k)
		}
	case 11:
		guess := old
		if r.rng.IntN(3) == 0 {
			guess = v
		}
		r.op = fmt.Sprintf("CompareAndSwap(%d, %d, %d)", k, guess, v)
		var got bool
		o := r.call(func() { got = m.CompareAndSwap(k, guess, v) })
		want := present && old == guess
		r.expect(o, got, want)
		if o == returned && want {
			r.publish(k, v)
		}
	case 12:
		guess := old
		if r.rng.IntN(3) == 0 {
			guess = v
		}
		r.op = fmt.Sprintf("CompareAndDelete(%d, %d)", k, guess)
		var got bool
		o := r.call(func() { got = m.CompareAndDelete(k, guess) })
		want := present && old == guess
		r.expect(o, got, want)
		if o == returned && want {
			r.remove(k)
		}
	case 13:
		if !r.ord {
			return
		}
		r.op = "PopOldest"
		var got [3]any
		o := r.call(func() { k, v, ok := m.PopOldest(); got = [3]any{k, v, ok} })
		if len(r.order) == 0 {
			r.expect(o, got, [3]any{0, 0, false})
		} else {
			k := r.order[0]
			r.expect(o, got, [3]any{k, r.vals[k], true})
			if o == returned {
				r.remove(k)
			}
		}
	case 14, 19, 20:
		n := []int{0, 5, 60, 300}[r.rng.IntN(4)]
		r.op = fmt.Sprintf("Reserve(%d)", n)
		r.call(func() { m.Reserve(n) })
	case 15:
		if r.rng.IntN(4) != 0 {
			return // rare: it empties the model
		}
		r.op = "Clear"
		if o := r.call(func() { m.Clear() }); o != returned {
			r.fatalf("Clear panicked (%v): it hashes nothing", o)
		}
		clear(r.vals)
		r.order = r.order[:0]
	case 16:
		r.op = "Stats"
		var s cmap.Stats
		if o := r.call(func() { s = m.Stats() }); o == returned && s.Len != len(r.vals) {
			r.fatalf("Stats.Len = %d, want %d", s.Len, len(r.vals))
		}
	case 17:
		r.op = "Snapshot"
		var s *snapshot.Snapshot[int, int]
		if o := r.call(func() { s = m.Snapshot() }); o != returned {
			r.fatalf("Snapshot panicked (%v): it hashes nothing", o)
		}
		r.snaps = append(r.snaps, heldSnapshot{s, maps.Clone(r.vals), slices.Clone(r.order)})
		if len(r.snaps) > 6 {
			r.snaps = r.snaps[1:]
		}
	case 18:
		if !r.ord {
			return
		}
		r.op = "Newest"
		var got [3]any
		r.call(func() { k, v, ok := m.Newest(); got = [3]any{k, v, ok} })
		if len(r.order) == 0 {
			r.expect(returned, got, [3]any{0, 0, false})
		} else {
			k := r.order[len(r.order)-1]
			r.expect(returned, got, [3]any{k, r.vals[k], true})
		}
	}
}

// verify checks the map against the model with the hasher disarmed.
func (r *chaosRun) verify() {
	r.t.Helper()
	m := r.m
	if l := m.LockedSegments(); len(l) != 0 {
		r.fatalf("segments %v left locked", l)
	}
	if err := m.CheckInvariants(); err != nil {
		r.fatalf("%v", err)
	}
	if fmt.Sprint(r.evicted) != fmt.Sprint(r.want) {
		r.fatalf("OnEvict got %v, want %v", r.evicted, r.want)
	}
	r.evicted, r.want = r.evicted[:0], r.want[:0]
	if m.Len() != len(r.vals) {
		r.fatalf("Len = %d, want %d", m.Len(), len(r.vals))
	}
	for k := range chaosKeys {
		v, ok := m.Load(k)
		if w, wok := r.vals[k]; v != w || ok != wok {
			r.fatalf("Load(%d) = %d, %v; want %d, %v", k, v, ok, w, wok)
		}
	}
	if r.ord {
		k, v, ok := m.Oldest()
		if len(r.order) == 0 {
			if ok {
				r.fatalf("Oldest = %d on an empty map", k)
			}
		} else if w := r.order[0]; !ok || k != w || v != r.vals[w] {
			r.fatalf("Oldest = %d, %d, %v; want %d", k, v, ok, w)
		}
	}
}

// verifySnapshots checks every held snapshot against the model of its
// instant.
func (r *chaosRun) verifySnapshots() {
	r.t.Helper()
	for i, h := range r.snaps {
		if h.s.Len() != len(h.vals) {
			r.fatalf("snapshot %d: Len %d, want %d", i, h.s.Len(), len(h.vals))
		}
		got := map[int]int{}
		for k, v := range h.s.All() {
			got[k] = v
		}
		if fmt.Sprint(got) != fmt.Sprint(h.vals) {
			r.fatalf("snapshot %d changed: %v, want %v", i, got, h.vals)
		}
		if r.ord {
			var order []int
			for k := range h.s.InOrder() {
				order = append(order, k)
			}
			if fmt.Sprint(order) != fmt.Sprint(h.order) {
				r.fatalf("snapshot %d: InOrder %v, want %v", i, order, h.order)
			}
		}
	}
}
