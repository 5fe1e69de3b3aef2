package stress

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Options tune [Run]. The zero value is a short run with a random seed.
type Options struct {
	// Duration is how long each scenario keeps its goroutines busy, not
	// counting the final checks. 0 means a default fit for CI under -race:
	// 1s, or 200ms when testing.Short() reports true.
	Duration time.Duration
	// Goroutines is about how many goroutines each scenario runs at once
	// (the linearizability scenario uses at most 8). 0 means 4×GOMAXPROCS.
	Goroutines int
	// Seed decides every random choice of the run: keys, operations,
	// values, sizes. 0 means a random seed. The seed in use is logged at the
	// start and printed with every failure, with the go test command that
	// replays it; the same seed replays the same operations, though not the
	// same interleaving. The flag -stress.seed, or else the environment
	// variable STRESS_SEED, overrides it, so that a failure replays without
	// editing code.
	Seed uint64
}

const (
	defaultDuration      = time.Second
	defaultShortDuration = 200 * time.Millisecond

	// maxErrors bounds the errors one scenario reports; the scenario stops
	// at its first error, but goroutines already past their checks may
	// still report theirs.
	maxErrors = 10
)

// stuckGrace is how long a scenario's goroutines may run past its Duration
// before the watchdog declares the map stuck (deadlock or livelock) and
// ends the process with every goroutine's stack. A variable for the
// package's own tests.
var stuckGrace = 2 * time.Minute

// Run puts maps made by newMap through every scenario, each a subtest of t
// named after it, and fails t on any violation of the [Map] contract. Each
// scenario makes fresh maps with newMap as it needs them and checks,
// after it ends, that it left no goroutine behind.
//
// Run must not be called from a parallel test, nor alongside code that
// starts goroutines, because its leak check cannot tell their goroutines
// from the map's.
func Run(t *testing.T, newMap func() Map, opts Options) {
	t.Helper()
	if newMap == nil {
		t.Fatal("stress: Run: newMap is nil")
	}
	cfg, err := resolve(opts)
	if err != nil {
		t.Fatal(err)
	}
	logRun(t, cfg)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			runScenario(t, sc.name, cfg, func(s *state) { sc.run(s, newMap) })
		})
	}
}

// scenarios are Run's subtests, in order. Each is described in doc.go.
var scenarios = []struct {
	name string
	run  func(s *state, newMap func() Map)
}{
	{"disjoint-writers", disjointWriters},
	{"contended-counters", contendedCounters},
	{"load-or-store-race", loadOrStoreRace},
	{"churn", churn},
	{"grow-shrink", growShrink},
	{"range-under-writers", rangeUnderWriters},
	{"linearizability", linearizability},
	{"clear-linearizability", clearLinearizability},
	{"clear-atomic", clearAtomic},
	{"delete-func", deleteFunc},
}

// logRun logs the run's seed, budget and replay flag.
func logRun(t *testing.T, cfg config) {
	t.Helper()
	t.Logf("stress: seed %d, %v per scenario, %d goroutines; replay with -stress.seed=%d",
		cfg.seed, cfg.duration, cfg.goroutines, cfg.seed)
}

// config is Options with the defaults filled in.
type config struct {
	duration   time.Duration
	goroutines int
	seed       uint64
}

func resolve(opts Options) (config, error) {
	cfg := config{duration: opts.Duration, goroutines: opts.Goroutines, seed: opts.Seed}
	switch {
	case cfg.duration < 0:
		return cfg, fmt.Errorf("stress: Options.Duration %v is negative", cfg.duration)
	case cfg.duration == 0 && testing.Short():
		cfg.duration = defaultShortDuration
	case cfg.duration == 0:
		cfg.duration = defaultDuration
	}
	switch {
	case cfg.goroutines < 0:
		return cfg, fmt.Errorf("stress: Options.Goroutines %d is negative", cfg.goroutines)
	case cfg.goroutines == 0:
		cfg.goroutines = 4 * runtime.GOMAXPROCS(0)
	}
	replay, err := replaySeed()
	if err != nil {
		return cfg, err
	}
	if replay != 0 {
		cfg.seed = replay
	}
	for cfg.seed == 0 {
		cfg.seed = rand.Uint64()
	}
	return cfg, nil
}

// runScenario runs body as the scenario called name in the subtest t, with
// the seed, budget, failure reporting and leak check every scenario shares.
// Helpers outside Run (the package's own cmap suites) use it too.
func runScenario(t *testing.T, name string, cfg config, body func(s *state)) {
	ignore := goleak.IgnoreCurrent()
	s := newState(t, name, cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stress: %s failed %s", name, s.replay)
		}
	})
	func() {
		defer s.recoverPanic()
		body(s)
	}()
	if err := goleak.Find(ignore); err != nil {
		s.errorf("goroutines left running after the scenario: %v", err)
	}
	if s.skipped != "" && !t.Failed() {
		t.Skip(s.skipped)
	}
}

// state is one scenario's run: its seed, its budget and its error count.
type state struct {
	t        *testing.T
	name     string
	cfg      config
	seed     uint64 // this scenario's own seed, derived from cfg.seed and name
	deadline time.Time
	replay   string // how to replay, appended to every failure
	skipped  string // why the scenario does not apply to the map, if it does not
	errs     atomic.Int64
	failed   atomic.Bool
}

func newState(t *testing.T, name string, cfg config) *state {
	h := fnv.New64a()
	h.Write([]byte(name))
	return &state{
		t:        t,
		name:     name,
		cfg:      cfg,
		seed:     mix64(cfg.seed ^ h.Sum64()),
		deadline: time.Now().Add(cfg.duration),
		replay:   replayHint(t, cfg.seed),
	}
}

// errorf reports a violation, with the replay hint, and stops the scenario.
// It is safe to call from any goroutine of the scenario.
func (s *state) errorf(format string, args ...any) {
	s.t.Helper()
	s.failed.Store(true)
	switch n := s.errs.Add(1); {
	case n < maxErrors:
		s.t.Errorf("stress: %s: %s %s", s.name, fmt.Sprintf(format, args...), s.replay)
	case n == maxErrors:
		s.t.Errorf("stress: %s: %s %s (further errors not shown)", s.name, fmt.Sprintf(format, args...), s.replay)
	}
}

// recoverPanic, deferred, turns a panic (of the map under test, say) into a
// reported error instead of a crash that would lose the seed. It lets the
// watchdog's panic through: a stuck map must end the process.
func (s *state) recoverPanic() {
	switch r := recover().(type) {
	case nil:
	case stuck:
		panic(r)
	default:
		s.errorf("panic: %v\n%s", r, debug.Stack())
	}
}

// stuck is the watchdog's panic value.
type stuck string

// logf logs a line about the scenario, shown with -v or on failure.
func (s *state) logf(format string, args ...any) {
	s.t.Helper()
	if s.stopped() {
		return // the figures of a failed scenario would mislead
	}
	s.t.Logf("stress: %s: %s", s.name, fmt.Sprintf(format, args...))
}

// skip ends the scenario as not applicable to the map, for the reason
// given; the subtest is reported as skipped, with the reason in its log.
// It is called from the scenario's own goroutine, before it starts others.
func (s *state) skip(reason string) { s.skipped = "stress: " + s.name + ": " + reason }

// stopped reports whether the scenario has failed and should wind down.
func (s *state) stopped() bool { return s.failed.Load() }

// expired reports whether the scenario should wind down: its budget is
// spent or it has failed.
func (s *state) expired() bool { return s.failed.Load() || time.Now().After(s.deadline) }

// remaining is the budget left.
func (s *state) remaining() time.Duration { return time.Until(s.deadline) }

// rng returns the random source of one goroutine (or one step) of the
// scenario, identified by stream numbers such as (round, goroutine).
func (s *state) rng(stream ...uint64) *rand.Rand {
	seq := uint64(0x9e3779b97f4a7c15)
	for _, x := range stream {
		seq = mix64(seq ^ x)
	}
	return rand.New(rand.NewPCG(s.seed, seq))
}

// group runs goroutines of one scenario: their panics become errors and
// Wait gives up on them, ending the process, if they run far past the
// scenario's budget.
type group struct {
	s  *state
	wg sync.WaitGroup
}

func (s *state) group() *group { return &group{s: s} }

// Go runs f in a new goroutine of the group.
func (g *group) Go(f func()) {
	g.wg.Go(func() {
		defer g.s.recoverPanic()
		f()
	})
}

// Wait waits for the group's goroutines. If they are still running
// stuckGrace after the scenario's deadline, the map is deadlocked or
// livelocked: Wait panics with the seed and every goroutine's stack, since a
// goroutine that never returns cannot be left behind by a test.
func (g *group) Wait() {
	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	limit := time.NewTimer(max(g.s.remaining(), 0) + stuckGrace)
	defer limit.Stop()
	select {
	case <-done:
	case <-limit.C:
		debug.SetTraceback("all")
		panic(stuck(fmt.Sprintf("stress: %s: goroutines still running %v after the scenario's deadline: the map is stuck %s",
			g.s.name, stuckGrace, g.s.replay)))
	}
}

// mix64 is the SplitMix64 finalizer: a bijection on uint64 that spreads
// every input bit over the whole output.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// valueFor returns the value version x of key: its high half is a tag
// derived from key, so that any value a map returns can be checked to
// belong to the key it was returned for (see belongs). x must not be 0, so
// no value is 0, the value a map returns for a missing key.
func valueFor(key uint64, x uint32) uint64 {
	return uint64(uint32(mix64(key)))<<32 | uint64(x)
}

// belongs reports whether v is a valueFor(key, x) for some x.
func belongs(key, v uint64) bool {
	return v>>32 == uint64(uint32(mix64(key))) && uint32(v) != 0
}
