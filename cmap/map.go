package cmap

import (
	"fmt"
	"hash/maphash"
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
	// mus[i] == locks.Mutex(i), so that single-segment writers lock with
	// an inlined sync.Mutex fast path: calls from generic code into
	// another package are not inlined when a user instantiates the map.
	mus []*sync.Mutex
	// valueComparable reports whether V's values can be compared with ==
	// (CompareAndSwap, CompareAndDelete).
	valueComparable bool
	// extra is nil unless the map keeps insertion order or is bounded
	// (WithInsertionOrder, WithMaxLen); every write checks it once, and
	// takes the paths of bound.go and order.go if it is set.
	extra *extra[K, V]
}

// noCopy makes go vet's copylocks check flag copies of a Map.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// New returns an empty Map configured by opts.
func New[K comparable, V any](opts ...Option) *Map[K, V] {
	m := new(Map[K, V])
	m.own = *newState[K, V](opts)
	return m
}

func newState[K comparable, V any](opts []Option) *state[K, V] {
	var c config
	for _, o := range opts {
		if o == nil {
			panic("cmap: New: nil Option")
		}
		o(&c)
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
	st := &state[K, V]{
		hasher:          table.MakeHasher(user, c.seed),
		shift:           uint(64-bits.TrailingZeros(uint(n))) & 63,
		mask:            uint64(n - 1),
		segs:            make([]segment[K, V], n),
		locks:           striped.NewStripes(n),
		valueComparable: reflect.TypeFor[V]().Comparable(),
	}
	st.mus = make([]*sync.Mutex, n)
	for i := range st.mus {
		st.mus[i] = st.locks.Mutex(i)
	}
	if c.ordered || c.maxLen > 0 || c.hasOnEvict {
		st.extra = newExtra[K, V](&c, n)
	}
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
		s.table.Store(table.New[K, V](s.minGroups))
	}
	return st
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
	st := newState[K, V](nil)
	m.st.Store(st)
	return st
}

// hash returns the hash of key. (Load writes it out with maphash
// inlined; the writers, dominated by their lock, call this.)
func (st *state[K, V]) hash(key K) uint64 {
	if h, ok := st.hasher.IntHash(key); ok {
		return h
	}
	return st.hasher.Hash(key)
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
	h, ok := st.hasher.IntHash(key)
	if !ok {
		if seed, ok := st.hasher.MaphashSeed(); ok {
			h = maphash.Comparable(seed, key)
		} else {
			h = st.hasher.Hash(key)
		}
	}
	t := st.segs[h>>(st.shift&63)&st.mask].table.Load()
	// The home group is probed here, written out (it is table.Find's
	// first step) so that a Load that ends in its home group makes no
	// call: the hottest path of the map. Longer probes call the table.
	grp := t.Home(h)
	ctrl := grp.Ctrl()
	v := ctrl ^ table.LSB*uint64(uint8(h>>32)&0x7F) // match the tag
	for match := (v - table.LSB) &^ v & table.MSB; match != 0; match &= match - 1 {
		if e := grp.Slot(bits.TrailingZeros64(match) >> 3); e != nil && e.Key == key {
			return e.Value, true
		}
	}
	if ctrl&^(ctrl<<6)&table.MSB != 0 { // an EMPTY byte ends the probe
		return value, false
	}
	if e := t.FindAfterHome(h, key); e != nil {
		return e.Value, true
	}
	return value, false
}

// Store sets the value for key. On a map bounded by [WithMaxLen], storing
// a new key into a full map evicts the oldest entry first ([EvictOldest])
// or panics with an error wrapping [ErrFull], changing nothing
// ([RejectNew]; [Map.TryStore] returns the error instead).
func (m *Map[K, V]) Store(key K, value V) {
	m.swap("Store", key, value)
}

// Swap stores value for key and returns the previous value, if any. loaded
// reports whether key was present.
func (m *Map[K, V]) Swap(key K, value V) (previous V, loaded bool) {
	return m.swap("Swap", key, value)
}

// swap is Swap; fn names the method called, for the panics of a bounded
// map.
func (m *Map[K, V]) swap(fn string, key K, value V) (previous V, loaded bool) {
	st := m.state()
	if st.extra != nil {
		return st.swapExtra(fn, key, value)
	}
	h := st.hash(key)
	ne := &table.Entry[K, V]{Key: key, Value: value}
	s, i := st.seg(h)
	mu := st.mus[i]
	mu.Lock()
	defer mu.Unlock()
	t := s.table.Load()
	pos, e, free, freeEmpty := t.Locate(h, key)
	if e != nil {
		previous, loaded = e.Value, true
	}
	st.putLocked(s, t, h, ne, pos, free, freeEmpty)
	return previous, loaded
}

// putLocked publishes ne for its key, found at pos (or absent, to go at
// free) in t, the segment's current table. The segment lock must be held.
func (st *state[K, V]) putLocked(s *segment[K, V], t *table.Table[K, V], h uint64, ne *table.Entry[K, V], pos, free table.Pos, freeEmpty bool) {
	if nt := s.writableLocked(&st.hasher, t, pos == table.NoPos && freeEmpty); nt != t {
		t = nt
		pos, _, free, freeEmpty = t.Locate(h, ne.Key)
	}
	if pos != table.NoPos {
		t.Replace(pos, ne)
		return
	}
	t.Insert(free, h, ne)
	if !freeEmpty {
		s.dead--
	}
	s.live.Add(1)
}

// deleteLocked deletes the entry at pos in t, the segment's current table,
// and may shrink the table. The segment lock must be held.
func (st *state[K, V]) deleteLocked(s *segment[K, V], t *table.Table[K, V], h uint64, key K, pos table.Pos) {
	if nt := s.writableLocked(&st.hasher, t, false); nt != t {
		t = nt
		pos, _, _, _ = t.Locate(h, key)
	}
	if t.Delete(pos) {
		s.dead++
	}
	s.live.Add(-1)
	s.shrinkLocked(&st.hasher, t)
	if st.extra != nil {
		st.extra.deletedLocked(s)
	}
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
	h := st.hash(key)
	s, i := st.seg(h)
	if e := s.table.Load().Find(h, key); e != nil {
		return e.Value, true
	}
	if st.extra != nil {
		return st.loadOrStoreExtra(key, h, value)
	}
	ne := &table.Entry[K, V]{Key: key, Value: value}
	mu := st.mus[i]
	mu.Lock()
	defer mu.Unlock()
	t := s.table.Load()
	pos, e, free, freeEmpty := t.Locate(h, key)
	if e != nil {
		return e.Value, true
	}
	st.putLocked(s, t, h, ne, pos, free, freeEmpty)
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
	h := st.hash(key)
	s, i := st.seg(h)
	if s.table.Load().Find(h, key) == nil {
		return value, false
	}
	mu := st.mus[i]
	mu.Lock()
	defer mu.Unlock()
	t := s.table.Load()
	pos, e, _, _ := t.Locate(h, key)
	if e == nil {
		return value, false
	}
	st.deleteLocked(s, t, h, key, pos)
	return e.Value, true
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
// segment for the locked second step.
func (st *state[K, V]) holds(fn string, key K, old V) (h uint64, s *segment[K, V], i int, ok bool) {
	if !st.valueComparable {
		panic(fmt.Sprintf("cmap: %s: value type %v is not comparable", fn, reflect.TypeFor[V]()))
	}
	h = st.hash(key)
	s, i = st.seg(h)
	e := s.table.Load().Find(h, key)
	return h, s, i, e != nil && any(e.Value) == any(old)
}

// CompareAndSwap swaps the old and new values for key if the value stored
// in the map is equal to old. It panics if V is not a comparable type, like
// sync.Map; a V that is an interface type holding an incomparable value
// panics as == does, leaving the map unchanged.
func (m *Map[K, V]) CompareAndSwap(key K, old, new V) (swapped bool) {
	st := m.state()
	h, s, i, maybe := st.holds("CompareAndSwap", key, old)
	if !maybe {
		return false
	}
	if st.extra != nil {
		return st.compareAndSwapExtra(key, h, old, new)
	}
	ne := &table.Entry[K, V]{Key: key, Value: new}
	mu := st.mus[i]
	mu.Lock()
	defer mu.Unlock()
	t := s.table.Load()
	pos, e, _, _ := t.Locate(h, key)
	if e == nil || any(e.Value) != any(old) {
		return false
	}
	st.putLocked(s, t, h, ne, pos, table.NoPos, false)
	return true
}

// CompareAndDelete deletes the entry for key if its value is equal to old.
// If there is no current value for key in the map, it returns false (even
// if old is the zero value). It panics if V is not a comparable type.
func (m *Map[K, V]) CompareAndDelete(key K, old V) (deleted bool) {
	st := m.state()
	h, s, i, maybe := st.holds("CompareAndDelete", key, old)
	if !maybe {
		return false
	}
	mu := st.mus[i]
	mu.Lock()
	defer mu.Unlock()
	t := s.table.Load()
	pos, e, _, _ := t.Locate(h, key)
	if e == nil || any(e.Value) != any(old) {
		return false
	}
	st.deleteLocked(s, t, h, key, pos)
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
	if st.extra != nil && st.extra.maxLen > 0 {
		n = min(n, st.extra.maxLen)
	}
	return int(n)
}

// Clear deletes all the entries, atomically: it holds every segment lock at
// once (taken in the global order of package striped), so no operation
// sees some segments cleared and others not, and no snapshot sees a part
// of the map cleared. It gives the tables' memory back, keeping the
// capacity reserved by [Map.Reserve] or [WithCapacity].
func (m *Map[K, V]) Clear() {
	st := m.loaded()
	if st == nil {
		return
	}
	st.locks.LockAll()
	defer st.locks.UnlockAll()
	cleared := 0
	for i := range st.segs {
		s := &st.segs[i]
		cleared += int(s.live.Load())
		s.replaceLocked(table.New[K, V](s.minGroups), 0)
		s.resizes.Add(^uint64(0)) // a clear is not a rebuild
	}
	if st.extra != nil {
		st.clearedLocked(cleared)
	}
}
