package cmap

import (
	"fmt"
	"math/bits"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/segmap/segmap/internal/table"
	"github.com/segmap/segmap/striped"
)

// Map is a concurrent hash map, safe for use by multiple goroutines without
// additional locking or coordination. It is a typed, faster replacement for
// [sync.Map] with the same method names and promises, plus [Map.Len],
// [Map.Compute], [Map.LoadOrCompute], [Map.Reserve], [Map.Snapshot] and
// [Map.Stats]; optionally, insertion order ([WithInsertionOrder]:
// [Map.Oldest], [Map.Newest], [Map.PopOldest]) and a bound on its length
// ([WithMaxLen]: a FIFO cache, or a fixed-capacity map with [Map.TryStore]).
//
// Keys are partitioned by hash into a fixed number of segments. Reads
// ([Map.Load] and the read-only paths of the other methods) take no lock
// and never wait, not even for a writer of the same key. Writers take the
// lock of their key's segment only: writers of different segments never
// wait for each other, and a segment that grows, drops tombstones or shrinks
// does so by building a new table and swapping it in, which makes that
// segment's writers alone wait, for time proportional to its size. The
// whole map is never stopped.
//
// Layout: when K and V hold no pointers (booleans, numbers, and arrays and
// structs of them) and are at most 32 bytes each, and the map keeps no
// insertion order, keys and values are stored in the tables themselves: a
// Load touches one group of one table, writes allocate nothing, and the
// garbage collector never scans the map. Other maps store pointers to
// entries. New chooses; [Stats].Layout reports it.
//
// The zero Map is empty and ready for use. A Map must not be copied after
// first use.
//
// In the terminology of the Go memory model, Map arranges that a write
// operation "synchronizes before" any read operation that observes the
// effect of the write, exactly as [sync.Map] does: read operations are
// Load, LoadOrStore and LoadOrCompute (when they find the key),
// LoadAndDelete, Swap, CompareAndSwap, CompareAndDelete, Compute, Range and
// the iterators; write operations are Store, LoadOrStore and LoadOrCompute
// (when they store), LoadAndDelete, Delete, Swap, CompareAndSwap and
// CompareAndDelete (when they change the map), Compute (unless it cancels)
// and Clear. Every operation on a single key is linearizable; see
// docs/guarantees.md for the full contract.
type Map[K comparable, V any] struct {
	_ noCopy

	// own is the state of a Map made by New, written before New returns
	// and immutable afterwards (own.segs != nil), so reads need no atomic
	// load: one dependent load less on every operation than going through
	// st. A zero Map leaves own zero forever and uses st.
	own state[K, V]
	// st is the state of a zero Map, set once by its first write.
	st     atomic.Pointer[state[K, V]]
	initMu sync.Mutex
}

// state is everything a Map needs, immutable after init except through
// the segments.
type state[K comparable, V any] struct {
	hasher table.Hasher[K]
	// shift == (64 - log2(len(segs))) & 63 and mask == len(segs)-1:
	// segment index = hash >> shift & mask, the top bits of the hash.
	shift uint
	mask  uint64
	segs  []segment[K, V]
	// locks has one stripe per segment: stripe i guards segs[i]. Locking
	// several stripes is done in ascending index order only (striped's
	// global order), so Snapshot and Clear cannot deadlock.
	locks *striped.Stripes
	// mus[i] == locks.Mutex(i): single-segment writers lock through it,
	// one call less than through striped's Lock.
	mus []*sync.Mutex
	// valueComparable reports whether V's values can be compared with ==
	// (CompareAndSwap, CompareAndDelete).
	valueComparable bool
	// flat: the tables are flat (keys and values inline; see
	// internal/table's Flat): K and V hold no pointers and are small
	// (table.FlatFits), and the map keeps no insertion order, whose log
	// identifies entries by pointer. Else they hold pointers to entries.
	// Immutable.
	flat bool
	// extra is nil unless the map keeps insertion order or is bounded
	// (WithInsertionOrder, WithMaxLen); the write engine (write.go) calls
	// its hooks (extra.go) if it is set. Load never reads it.
	extra *extra[K, V]
	// clears is twice the number of Clear calls made, plus one while a
	// Clear runs: it is odd exactly while a Clear holds every segment lock
	// and replaces the tables one by one. Written only by Clear; read by
	// every lock-free read, which answers from its probe only if clears
	// was even and unchanged across it (see Map.Clear and stable). Every
	// other field of state is immutable, so this cache line is written
	// once per Clear and otherwise only read.
	clears atomic.Uint64
}

// testHookEntryLayout, if set (by tests only), makes New give every map the
// entry layout, so that tests written for flat maps also run on the entry
// layout.
var testHookEntryLayout atomic.Bool

// stable reports whether a lock-free read that loaded c from st.clears
// before its probe overlapped no Clear: c is even and st.clears still
// holds it. If it did overlap one, the probe may have seen some segments
// cleared and others not, and the read must not answer from it.
func (st *state[K, V]) stable(c uint64) bool {
	return st.clears.Load() == c && c&1 == 0
}

// testHookClear, if set (by tests only, before any map is used), runs in
// Clear after segment i's table is replaced, with every lock held.
var testHookClear func(i int)

// noCopy makes go vet's copylocks check flag copies of a Map.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// New returns an empty Map configured by opts.
func New[K comparable, V any](opts ...Option) *Map[K, V] {
	m := new(Map[K, V])
	m.own.init(opts)
	return m
}

// init configures st, which no other goroutine can see yet, by opts.
func (st *state[K, V]) init(opts []Option) {
	var c config
	for _, o := range opts {
		if o == nil {
			panic("cmap: New: nil Option")
		}
		o(&c)
	}
	if c.seedSet && c.hasher == nil {
		panic("cmap: New: WithSeed without WithHasher: the default hasher draws its own random seed")
	}
	var user func(uint64, K) uint64
	if c.hasher != nil {
		h, ok := c.hasher.(func(uint64, K) uint64)
		if !ok {
			panic(fmt.Sprintf("cmap: WithHasher: hasher for %v keys given to a Map with %v keys", c.hasherKey, reflect.TypeFor[K]()))
		}
		user = h
	}
	n := c.segments
	if n == 0 {
		n = max(16, 4*runtime.GOMAXPROCS(0))
	}
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	n = min(n, maxSegments)
	st.hasher = table.MakeHasher(user, c.seed)
	st.shift = uint(64-bits.TrailingZeros(uint(n))) & 63
	st.mask = uint64(n - 1)
	st.segs = make([]segment[K, V], n)
	st.locks = striped.NewStripes(n)
	st.valueComparable = reflect.TypeFor[V]().Comparable()
	st.mus = make([]*sync.Mutex, n)
	for i := range st.mus {
		st.mus[i] = st.locks.Mutex(i)
	}
	if c.ordered || c.maxLen > 0 || c.hasOnEvict {
		st.extra = newExtra[K, V](&c, n)
	}
	st.flat = table.FlatFits[K, V]() && (st.extra == nil || !st.extra.ordered) && !testHookEntryLayout.Load()
	g := layoutGroups("WithCapacity", c.capacity, n, false)
	for i := range st.segs {
		s := &st.segs[i]
		s.minGroups = g
		if x := st.extra; x != nil {
			if x.policy == RejectNew {
				s.minGroups, s.fixed = max(g, x.layout), true
			}
			if x.ordered {
				s.log = table.NewLog[K, V](x.single)
			}
		}
		s.table.Store(table.NewLayout[K, V](s.minGroups, st.flat))
	}
}

// state returns the map's state, initializing a zero Map on first use.
func (m *Map[K, V]) state() *state[K, V] {
	if m.own.segs != nil {
		return &m.own
	}
	return m.initSlow()
}

// loaded returns the map's state, or nil for a zero Map never written.
func (m *Map[K, V]) loaded() *state[K, V] {
	if m.own.segs != nil {
		return &m.own
	}
	return m.st.Load()
}

func (m *Map[K, V]) initSlow() *state[K, V] {
	if st := m.st.Load(); st != nil {
		return st
	}
	m.initMu.Lock()
	defer m.initMu.Unlock()
	if st := m.st.Load(); st != nil {
		return st
	}
	st := new(state[K, V])
	st.init(nil)
	m.st.Store(st)
	return st
}

// table returns the current table of the segment of hash h.
func (st *state[K, V]) table(h uint64) *table.Table[K, V] {
	return st.segs[h>>(st.shift&63)&st.mask].table.Load()
}

// entry returns a new entry of key and value for a map of the entry
// layout, allocated before the writer takes its lock; nil for a flat map,
// which stores key and value themselves.
func (st *state[K, V]) entry(key K, value V) *table.Entry[K, V] {
	if st.flat {
		return nil
	}
	return &table.Entry[K, V]{Key: key, Value: value}
}

// seg returns the segment of hash h and its index.
func (st *state[K, V]) seg(h uint64) (*segment[K, V], int) {
	i := int(h >> (st.shift & 63) & st.mask)
	return &st.segs[i], i
}

// Load returns the value stored in the map for key, or the zero value if
// none is present. ok reports whether a value was found. It takes no lock.
func (m *Map[K, V]) Load(key K) (value V, ok bool) {
	st := m.loaded()
	if st == nil {
		return value, false
	}
	// The one hand-specialised read path: the integer hash and the home
	// group's probe are spelled out here with table's helpers (the formulas
	// stay in internal/table), so that a Load of an integer key that ends
	// in its home group makes no call. Measured against calling Hash and
	// Find: BenchmarkThreadCPU load-hit, uint64 keys, N=1e3, one P, cmap ÷
	// xsync v4 cpu-ns/op, median of 10 per-run ratios, in both orders:
	// 1.24–1.26 here against 1.35–1.39 with the calls (−9%). String keys
	// call Hash either way. Longer probes call the table.
	h, ok := st.hasher.IntHash(key)
	if !ok {
		h = st.hasher.Hash(key)
	}
	c := st.clears.Load()
	t := st.segs[h>>(st.shift&63)&st.mask].table.Load()
	if t.IsFlat() { // the one branch on the layout, the same for every call
		if value, ok = t.Flat().Find(h, key); !st.stable(c) {
			value, ok, _ = st.lookup(h, key) // a Clear ran meanwhile: look again
		}
		return value, ok
	}
	grp := t.Home(h)
	var e *table.Entry[K, V]
	match, end := grp.Match(h)
	for ; match != 0; match &= match - 1 {
		if x := grp.Slot(table.SlotOf(match)); x != nil && x.Key == key {
			e, end = x, true
			break
		}
	}
	if !end {
		e = t.FindAfterHome(h, key)
	}
	if !st.stable(c) {
		_, _, hn := st.lookup(h, key) // a Clear ran meanwhile: look again
		e = hn.e
	}
	if e == nil {
		return value, false
	}
	return e.Value, true
}

// lookup is the lock-free lookup of the read paths, for key hashed h, as
// of one instant at which no Clear was under way.
//
// Why the clears counter: Clear holds every segment lock, so no writer
// sees a half-cleared map, but it replaces the segments' tables one after
// the other, and a reader takes no lock. Without the check, a goroutine
// that stored k1 and then k2 (in segments that Clear empties in the order
// k2's, k1's) could have a concurrent reader find k2 gone and then k1
// still there, which no instant of the map ever held (TestClearAtomicForReaders).
// With it, a probe counts only if no Clear started or ended during it;
// while a Clear runs (clears odd), the map is empty from the instant
// clears turned odd until the Clear returns, since no write can run, so
// "absent" is the answer at that instant. A reader probes again only
// when a whole Clear happened during its probe: it never waits.
//
// It returns key's value and whether key is present, and, if key is in an
// entry table, its table, slot and entry, as a hint that open takes; a
// flat table gives the zero hint: its slots hold no identity that open
// could check.
func (st *state[K, V]) lookup(h uint64, key K) (v V, ok bool, hn hint[K, V]) {
	for {
		c := st.clears.Load()
		if c&1 != 0 {
			var zero V
			return zero, false, hint[K, V]{}
		}
		t := st.table(h)
		hn = hint[K, V]{}
		if t.IsFlat() {
			v, ok = t.Flat().Find(h, key)
		} else if pos, e := t.Lookup(h, key); e != nil {
			v, ok, hn = e.Value, true, hint[K, V]{t: t, pos: pos, e: e}
		} else {
			var zero V
			v, ok = zero, false
		}
		if st.clears.Load() == c {
			return v, ok, hn
		}
	}
}

// Store sets the value for key. On a map bounded by [WithMaxLen], storing
// a new key into a full map evicts the oldest entry first ([EvictOldest])
// or panics with an error wrapping [ErrFull], changing nothing
// ([RejectNew]; [Map.TryStore] returns the error instead).
func (m *Map[K, V]) Store(key K, value V) {
	if _, _, err := m.swap("Store", key, value); err != nil {
		panic(err)
	}
}

// Swap stores value for key and returns the previous value, if any. loaded
// reports whether key was present.
func (m *Map[K, V]) Swap(key K, value V) (previous V, loaded bool) {
	previous, loaded, err := m.swap("Swap", key, value)
	if err != nil {
		panic(err)
	}
	return previous, loaded
}

// swap is Swap, returning the ErrFull error of a full RejectNew map; fn
// names the method called.
func (m *Map[K, V]) swap(fn string, key K, value V) (previous V, loaded bool, err error) {
	st := m.state()
	h := st.hasher.Hash(key)
	ne := st.entry(key, value) // allocated before the lock
	var w writer[K, V]
	defer w.close()
	st.open(&w, fn, key, h, hint[K, V]{})
	if w.found() {
		previous, loaded = w.value(), true
	}
	return previous, loaded, w.put(value, ne)
}

// LoadOrStore returns the existing value for key if present. Otherwise, it
// stores and returns the given value. loaded is true if the value was
// loaded, false if stored. When key is present it takes no lock.
//
// Like Store, Swap, Compute and LoadOrCompute, it panics with an error
// wrapping [ErrFull] if it would insert a new key into a full map bounded
// with [WithMaxLen] and [RejectNew], leaving the map unchanged; use
// [Map.TryStore] to get the error instead.
func (m *Map[K, V]) LoadOrStore(key K, value V) (actual V, loaded bool) {
	st := m.state()
	h := st.hasher.Hash(key)
	if v, ok, _ := st.lookup(h, key); ok {
		return v, true
	}
	ne := st.entry(key, value)
	var w writer[K, V]
	defer w.close()
	st.open(&w, "LoadOrStore", key, h, hint[K, V]{})
	if w.found() {
		return w.value(), true
	}
	if err := w.put(value, ne); err != nil {
		panic(err)
	}
	return value, false
}

// LoadAndDelete deletes the value for key, returning the previous value if
// any. loaded reports whether key was present. When key is absent it takes
// no lock.
func (m *Map[K, V]) LoadAndDelete(key K) (value V, loaded bool) {
	st := m.loaded()
	if st == nil {
		return value, false
	}
	h := st.hasher.Hash(key)
	_, ok, hn := st.lookup(h, key)
	if !ok {
		return value, false
	}
	var w writer[K, V]
	defer w.close()
	st.open(&w, "LoadAndDelete", key, h, hn)
	if !w.found() {
		return value, false
	}
	value = w.value()
	w.del()
	return value, true
}

// Delete deletes the value for key. When key is absent it takes no lock and
// allocates nothing.
func (m *Map[K, V]) Delete(key K) {
	m.LoadAndDelete(key)
}

// holds is the lock-free first step of CompareAndSwap and CompareAndDelete
// (named by fn): it panics if V is not comparable, and reports whether key
// holds old now; if not, the operation fails without taking a lock (a
// failed compare is linearizable at this read). It returns key's hash and
// the lookup's hint for the locked second step.
func (st *state[K, V]) holds(fn string, key K, old V) (h uint64, hn hint[K, V], ok bool) {
	if !st.valueComparable {
		panic(fmt.Sprintf("cmap: %s: value type %v is not comparable", fn, reflect.TypeFor[V]()))
	}
	h = st.hasher.Hash(key)
	v, found, hn := st.lookup(h, key)
	return h, hn, found && any(v) == any(old)
}

// CompareAndSwap swaps the old and new values for key if the value stored
// in the map is equal to old. It panics if V is not a comparable type, like
// sync.Map; a V that is an interface type holding an incomparable value
// panics as == does, leaving the map unchanged.
func (m *Map[K, V]) CompareAndSwap(key K, old, new V) (swapped bool) {
	st := m.state()
	h, hn, maybe := st.holds("CompareAndSwap", key, old)
	if !maybe {
		return false
	}
	ne := st.entry(key, new)
	var w writer[K, V]
	defer w.close()
	st.open(&w, "CompareAndSwap", key, h, hn)
	if !w.found() || any(w.value()) != any(old) {
		return false
	}
	return w.put(new, ne) == nil // a replace: never ErrFull
}

// CompareAndDelete deletes the entry for key if its value is equal to old.
// If there is no current value for key in the map, it returns false (even
// if old is the zero value). It panics if V is not a comparable type.
func (m *Map[K, V]) CompareAndDelete(key K, old V) (deleted bool) {
	st := m.state()
	h, hn, maybe := st.holds("CompareAndDelete", key, old)
	if !maybe {
		return false
	}
	var w writer[K, V]
	defer w.close()
	st.open(&w, "CompareAndDelete", key, h, hn)
	if !w.found() || any(w.value()) != any(old) {
		return false
	}
	w.del()
	return true
}

// Len returns the number of entries. It takes no lock: while writers run,
// it is the sum of the segments' counts, each exact at some instant during
// the call. [Map.Snapshot] gives an exact count at one instant.
//
// On a map bounded by [WithMaxLen] it never exceeds the bound: the map
// never holds more, and the sum, which can count an entry evicted from one
// segment and its replacement in another, is capped at it.
func (m *Map[K, V]) Len() int {
	st := m.loaded()
	if st == nil {
		return 0
	}
	n := int64(0)
	for i := range st.segs {
		n += st.segs[i].live.Load()
	}
	if b := st.bound(); b > 0 {
		n = min(n, b)
	}
	return int(n)
}

// Clear deletes all the entries, atomically: it holds every segment lock at
// once (taken in the global order of package striped), so no writer and no
// snapshot sees some segments cleared and others not; lock-free readers
// (Load, and the lock-free first steps of the other methods) check a
// map-wide counter that Clear changes before and after it replaces the
// tables, and answer "absent" while a Clear runs, so they do not either.
// It gives the tables' memory back, keeping the capacity reserved by
// [Map.Reserve] or [WithCapacity].
func (m *Map[K, V]) Clear() {
	st := m.loaded()
	if st == nil {
		return
	}
	st.locks.LockAll()
	defer st.locks.UnlockAll()
	// clears odd: from here to the second Add, lock-free readers answer
	// "absent" rather than trust a probe that may see some segments
	// cleared and others not (see lookup). This Add is Clear's
	// linearization point.
	st.clears.Add(1)
	defer st.clears.Add(1) // before the locks are released (defers run last in, first out)
	cleared := 0
	for i := range st.segs {
		s := &st.segs[i]
		cleared += int(s.live.Load())
		s.replaceLocked(table.NewLayout[K, V](s.minGroups, st.flat), 0)
		s.resizes.Add(^uint64(0)) // a clear is not a rebuild
		if testHookClear != nil {
			testHookClear(i)
		}
	}
	st.clearedLocked(cleared)
}
