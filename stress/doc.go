// Package stress is a race-detector torture harness for concurrent maps:
// [Run] puts any [Map] (the method set of [sync.Map], typed for uint64 keys
// and values) through scenarios that hunt for lost updates, stale reads,
// lost deletes, broken iteration and goroutine leaks, and fails the test
// with the seed that replays the run.
//
// # Scenarios
//
// Each scenario is a subtest of the test that calls Run, runs for
// [Options.Duration] with about [Options.Goroutines] goroutines, and makes
// fresh maps as it needs them:
//
//   - disjoint-writers: each goroutine owns a range of keys and runs every
//     operation on them, checking each result against a private model; at
//     the end the map must equal the union of the models, through Load and
//     through Range (every key with its value, no other key). A ranger
//     checks Range meanwhile.
//   - contended-counters: all goroutines increment a few keys with
//     LoadOrStore and CompareAndSwap loops; the totals must be exact. A
//     monitor bounds every Load between the increments completed before it
//     and those begun before it returned; in alternate rounds goroutines
//     also take counters out with LoadAndDelete or CompareAndDelete.
//   - load-or-store-race: all goroutines contend for one key as a token
//     with LoadOrStore(k, a value of their own): the one whose call stores
//     must Load its value back and take it out with CompareAndDelete, as
//     nobody else removes the key.
//   - churn: writers insert ever-new keys and delete them soon after (a
//     small live set, many tombstones) and publish watermarks; readers
//     check that every key known present for a whole Load or Range is
//     found with its value, and every key known absent is not.
//   - grow-shrink: writers grow a map from empty to thousands of keys (up
//     to 65536, as the budget allows) and shrink it back to empty, cycle
//     after cycle, publishing each key's phase; readers check each Load
//     against it. After growth the map holds exactly the keys; after
//     shrinking, nothing.
//   - range-under-writers: Range while other keys are toggled and waves of
//     keys are inserted and deleted: no key twice, no key absent for the
//     whole call, every key present for the whole call; f is never called
//     after it returns false.
//   - linearizability: short random histories of all nine operations (and,
//     when the map has LoadOrCompute(key, f func() uint64), LoadOrCompute
//     with an f that yields the processor several times) by
//     up to 8 goroutines on 3 or 4 keys, timed on a shared atomic clock and
//     checked with porcupine (github.com/anishathalye/porcupine) against a
//     sequential specification, key by key; Range is in the model, as a
//     read of each key within its interval. A failure prints the offending
//     key's operations, cut down to the shortest part of its history that
//     has no linearization (at most 24 of them, around a marker at the first
//     operation that cannot be placed); with -stress.html DIR it also writes
//     porcupine's visualization of them into DIR.
//   - clear-linearizability (maps with Clear): the same histories with
//     Clear among the operations, as a delete of every key at one instant
//     within its call, while goroutines grow and shrink the map with keys
//     of their own, so that Clears meet resizes.
//   - clear-atomic (maps with Clear): a writer stores fresh keys one after
//     another while Clears run: the keys left must be a suffix of the order
//     they were stored in (a Clear that removes a later key and keeps an
//     earlier one did not happen at one instant); a clearer runs
//     Store(k); Clear(); Load(k), which must miss, and calls Clear while a
//     grower seems stuck in a Store (likely rebuilding a table), after
//     which the grower's earlier keys must be gone.
//   - delete-func (maps with DeleteFunc(func(k, v uint64) bool) int, as
//     cmap's): writers store each of their keys' versions in turn, fresh
//     then expired, while sweepers delete the expired values with
//     DeleteFunc: no fresh value may ever be deleted (a DeleteFunc that
//     checks a value, then deletes the key without holding it, deletes a
//     fresh value stored in between), the predicate sees no key twice, and
//     the counts DeleteFunc returns must add up to the expired values
//     deleted.
//
// The Clear scenarios run when the map made by newMap has a Clear() method,
// as sync.Map does, and delete-func when it has DeleteFunc; for other maps
// they are skipped, and the test log says so.
//
// These are the promises of docs/guarantees.md (in the segmap repository)
// that any sync.Map-like map should keep.
//
// After every scenario, Run checks with goleak (go.uber.org/goleak) that
// no goroutine started during the scenario is still running.
//
// The checks have teeth: the package's own tests keep maps broken in one
// way each (a LoadOrStore that checks then acts, with or without a yield
// in between, over one mutex or over shards; a Clear that empties shards
// one at a time; a Clear skipped when it meets a shard's rebuild; a lost
// Delete, a Range that repeats or skips a key, a loose CompareAndSwap, a
// lagging Load, a LoadOrCompute that stores f's value over a Store made
// while f ran, a leaked goroutine, a deadlock, no synchronization at all)
// and show, in child processes, that Run fails on every one of them, in the
// scenarios expected to catch it. They also put xsync v4's Map and xsync
// v3's MapOf through Run: each passes every scenario but clear-atomic (and,
// in some runs, clear-linearizability), since its Clear is skipped when it
// meets a resize; v4's DeleteMatching, as its documentation says, may call
// its function twice for a key during a resize, which delete-func reports
// in some runs. A DeleteFunc that checks a value and then deletes the
// key without holding it is among the broken maps (delete-func catches it).
// [SyncMap] has a DeleteFunc too, written as Range plus CompareAndDelete.
//
// # Use
//
// Put your own map through it from a test, beside sync.Map as a control:
//
//	func TestStress(t *testing.T) {
//		stress.Run(t, func() stress.Map { return mymap.New[uint64, uint64]() }, stress.Options{})
//	}
//
//	func TestStressSyncMap(t *testing.T) {
//		stress.Run(t, func() stress.Map { return new(stress.SyncMap) }, stress.Options{})
//	}
//
// Run the tests with the race detector, go test -race. A map whose method
// set differs needs a small adapter type with the methods of [Map].
//
// For maps of other key and value types, [RunOf] runs every scenario
// through a [Codec] for each: a one-to-one mapping from uint64 and back,
// such as a key's hex string, or a struct of two uint32:
//
//	hex := stress.Codec[string]{
//		To:   func(x uint64) string { return fmt.Sprintf("%016x", x) },
//		From: func(s string) uint64 { x, _ := strconv.ParseUint(s, 16, 64); return x },
//	}
//	stress.RunOf(t, func() stress.MapOf[string, string] { return mymap.New[string, string]() }, hex, hex, stress.Options{})
//
// # Failures and replay
//
// Every failure message ends with the seed and the command that replays
// it, run from the module's root, such as
//
//	[seed 42; replay: go test -race -count=1 -run '^TestStress$/^churn$' ./mypkg -stress.seed=42]
//
// The flag -stress.seed (or the environment variable STRESS_SEED) sets the
// seed of every Run in the test binary, over [Options.Seed]: no code edit
// is needed to replay. The flag -stress.html DIR writes porcupine's
// visualization of each history that is not linearizable into DIR; without
// it, nothing is written anywhere.
//
// Each scenario derives its own random streams from the run's seed and its
// name, so replaying one scenario alone with -run replays its operations
// (keys, operations, values); how far it gets depends on the budget and
// the machine, and the interleaving is the scheduler's, so a rare race may
// take a longer Duration or a few -count runs to recur.
//
// # Budget and soak
//
// With the zero [Options], each scenario runs for 1s (200ms under
// go test -short) plus its final checks, so a Run takes about 9s, under
// -race too. For longer runs set [Options.Duration], say from a flag of
// your own test package. This package's own TestSoak puts cmap (under six
// configurations, with the cmap-only scenarios; with values that hold a
// pointer; bounded and ordered) and sync.Map through the harness for as
// long per scenario as the flag -stress.duration or the environment
// variable STRESS_DURATION asks (the flag wins); without either, it skips:
//
//	go test -race -run Soak -timeout 0 ./stress -stress.duration=30m
//	STRESS_DURATION=30m go test -race -run 'Soak/cmap-default' -timeout 0 ./stress
//
// TestSoak runs 117 scenarios in all, 14 per cmap configuration
// (cmap-default, cmap-one-segment, cmap-low-bits-hash,
// cmap-insertion-order, cmap-evict-oldest-unreached,
// cmap-reject-new-unreached), 10 for cmap-boxed, cmap-string-keys (the
// arena layout) and sync.Map, and 3 for
// cmap-bounded: pick some with -run. Pass -timeout 0 (or a -timeout above
// the total), since go test stops a test binary after 10 minutes by
// default.
//
// # Caveats
//
// Run must not be called from parallel tests, since its leak check cannot
// tell other tests' goroutines from the map's. If the goroutines of a
// scenario are still running two minutes past its budget, the map is
// taken to be deadlocked or livelocked, and Run panics with the seed and
// every goroutine's stack.
package stress
