package striped_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The hammer: many goroutines lock random, overlapping sets of stripes
// through the API under test (multi-locks with duplicates in random order,
// single locks, try-locks, lock-alls and their read forms), and check under
// every lock that they hold what they think they hold.
//
// State guarded by stripe i, all plain (non-atomic) words, so that the race
// detector sees any two holders that the locks failed to order:
//
//	owner[i]    id of the last writer of stripe i; a writer sets it on
//	            entry and finds it unchanged on exit; a reader finds it
//	            unchanged throughout
//	count[i]    times stripe i was write-held; must equal the sum of the
//	            workers' own tallies at the end (no lost update)
//	balance[i]  a writer holding >= 2 stripes moves 1 from its lowest to its
//	            highest; anyone holding all stripes finds the sum 0
//
// A deadlock shows as no progress for cfg.stall: the hammer then reports it
// with the seed instead of hanging. Locks that wait on cfg.abort (the
// deliberately broken ones below) let the workers exit after that; a real
// deadlock leaves them blocked, and goleak reports them too.

// target is the API under test, seen as items (ints in [0, items)) that
// map to stripes. For index-addressed stripes an item is an index; for
// key-addressed ones it is a key.
type target struct {
	name     string
	items    int
	stripes  int
	stripeOf func(item int) int

	lockSet            func(items []int) (unlock func())
	lock, unlock       func(item int)
	tryLock            func(item int) bool
	lockAll, unlockAll func()

	// The read side; nil for a target without one.
	rlockSet             func(items []int) (runlock func())
	rlock, runlock       func(item int)
	rlockAll, runlockAll func()
}

type hammerConfig struct {
	workers, iters int
	maxSet         int           // a multi-lock lists 0..maxSet items
	stall          time.Duration // no progress for this long is a deadlock
	seed           uint64
	abort          *atomic.Bool // set when the hammer gives up; may be nil
}

func defaultHammer(t *testing.T) hammerConfig {
	cfg := hammerConfig{workers: 8, iters: 20000, maxSet: 6, stall: 10 * time.Second, seed: rand.Uint64()}
	if testing.Short() || raceEnabled {
		cfg.iters = 3000
	}
	return cfg
}

type hammerState struct {
	tg      target
	cfg     hammerConfig
	owner   []int
	count   []int
	balance []int

	progress atomic.Int64
	mu       sync.Mutex
	err      error // the first failure
	tally    []int // sum of the workers' own counts, under mu
}

func (h *hammerState) fail(err error) {
	h.mu.Lock()
	if h.err == nil {
		h.err = err
	}
	h.mu.Unlock()
	h.cfg.abort.Store(true)
}

// hammer runs cfg.workers goroutines against tg and returns the first
// failure, or nil.
func hammer(tg target, cfg hammerConfig) error {
	if cfg.abort == nil {
		cfg.abort = new(atomic.Bool)
	}
	h := &hammerState{
		tg: tg, cfg: cfg,
		owner: make([]int, tg.stripes), count: make([]int, tg.stripes),
		balance: make([]int, tg.stripes), tally: make([]int, tg.stripes),
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for id := 1; id <= cfg.workers; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.worker(id)
		}()
	}
	go func() { wg.Wait(); close(done) }()

	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	last, lastChange := int64(-1), time.Now()
loop:
	for {
		select {
		case <-done:
			break loop
		case now := <-tick.C:
			if p := h.progress.Load(); p != last {
				last, lastChange = p, now
			} else if now.Sub(lastChange) > cfg.stall {
				cfg.abort.Store(true)
				select { // let abortable locks give up and workers exit
				case <-done:
				case <-time.After(2 * time.Second):
				}
				return fmt.Errorf("%s: deadlock: no progress for %v after %d operations (seed %#x)",
					tg.name, cfg.stall, p, cfg.seed)
			}
		}
	}
	if h.err != nil {
		return fmt.Errorf("%s: %w (seed %#x)", tg.name, h.err, cfg.seed)
	}
	for i := range h.count {
		if h.count[i] != h.tally[i] {
			return fmt.Errorf("%s: stripe %d was write-held %d times, workers counted %d: lost update (seed %#x)",
				tg.name, i, h.count[i], h.tally[i], cfg.seed)
		}
	}
	if sum := sumOf(h.balance); sum != 0 {
		return fmt.Errorf("%s: balances sum to %d, want 0 (seed %#x)", tg.name, sum, cfg.seed)
	}
	return nil
}

func sumOf(s []int) int {
	n := 0
	for _, v := range s {
		n += v
	}
	return n
}

func (h *hammerState) worker(id int) {
	tg, cfg := h.tg, h.cfg
	r := rand.New(rand.NewPCG(cfg.seed, uint64(id)))
	tally := make([]int, tg.stripes)
	defer func() {
		h.mu.Lock()
		for i, n := range tally {
			h.tally[i] += n
		}
		h.mu.Unlock()
	}()
	all := make([]int, tg.stripes)
	for i := range all {
		all[i] = i
	}
	items := make([]int, 0, cfg.maxSet)
	for range cfg.iters {
		if cfg.abort.Load() {
			return
		}
		items = items[:0]
		for range r.IntN(cfg.maxSet + 1) {
			items = append(items, r.IntN(tg.items)) // duplicates and any order
		}
		var err error
		switch op := r.IntN(100); {
		case op < 45:
			unlock := tg.lockSet(items)
			err = h.write(id, r, h.stripesOf(items), tally)
			unlock()
		case op < 60:
			it := r.IntN(tg.items)
			tg.lock(it)
			err = h.write(id, r, []int{tg.stripeOf(it)}, tally)
			tg.unlock(it)
		case op < 65:
			if it := r.IntN(tg.items); tg.tryLock(it) {
				err = h.write(id, r, []int{tg.stripeOf(it)}, tally)
				tg.unlock(it)
			}
		case op < 69:
			tg.lockAll()
			if sum := sumOf(h.balance); sum != 0 {
				err = fmt.Errorf("under LockAll, balances sum to %d, want 0", sum)
			} else {
				err = h.write(id, r, all, tally)
			}
			tg.unlockAll()
		case tg.rlockSet == nil:
			// No read side: one more multi-lock.
			unlock := tg.lockSet(items)
			err = h.write(id, r, h.stripesOf(items), tally)
			unlock()
		case op < 90:
			runlock := tg.rlockSet(items)
			err = h.read(r, h.stripesOf(items))
			runlock()
		case op < 97:
			it := r.IntN(tg.items)
			tg.rlock(it)
			err = h.read(r, []int{tg.stripeOf(it)})
			tg.runlock(it)
		default:
			tg.rlockAll()
			if sum := sumOf(h.balance); sum != 0 {
				err = fmt.Errorf("under RLockAll, balances sum to %d, want 0", sum)
			} else {
				err = h.read(r, all)
			}
			tg.runlockAll()
		}
		if err != nil {
			h.fail(err)
			return
		}
		h.progress.Add(1)
	}
}

// stripesOf returns the distinct stripes of items, ascending.
func (h *hammerState) stripesOf(items []int) []int {
	s := make([]int, len(items))
	for i, it := range items {
		s[i] = h.tg.stripeOf(it)
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// write is the work of a writer holding stripes (ascending, distinct).
func (h *hammerState) write(id int, r *rand.Rand, stripes []int, tally []int) error {
	for _, i := range stripes {
		h.owner[i] = id
		h.count[i]++
		tally[i]++
	}
	if len(stripes) >= 2 {
		h.balance[stripes[0]]--
		h.balance[stripes[len(stripes)-1]]++
	}
	if r.IntN(4) == 0 {
		runtime.Gosched() // invite anyone the locks failed to keep out
	}
	for _, i := range stripes {
		if o := h.owner[i]; o != id {
			return fmt.Errorf("worker %d write-holds stripe %d, but worker %d wrote it meanwhile: no mutual exclusion", id, i, o)
		}
	}
	return nil
}

// read is the work of a reader holding stripes: no writer may enter them.
func (h *hammerState) read(r *rand.Rand, stripes []int) error {
	seen := make([]int, len(stripes))
	for j, i := range stripes {
		seen[j] = h.owner[i]
	}
	if r.IntN(4) == 0 {
		runtime.Gosched()
	}
	for j, i := range stripes {
		if o := h.owner[i]; o != seen[j] {
			return fmt.Errorf("stripe %d read-held, but worker %d wrote it meanwhile: a writer got in", i, o)
		}
	}
	return nil
}
