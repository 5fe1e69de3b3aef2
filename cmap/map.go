package cmap

import (
	"fmt"
	"math/bits"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

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
// whole map is never stopped. In a map of the flat layout with no options,
// an ordinary write takes no segment lock either, only the locks of the
// one or two groups of its table that it changes, so writers of one
// segment run in parallel too; its rebuilds, and Snapshot, Clear, Range,
// Stats and Reserve, still exclude them (docs/design.md, "Group locks").
//
// Layout: when K and V hold no pointers (booleans, numbers, and arrays and
// structs of them) and are at most 32 bytes each, and the map keeps no
// insertion order, keys and values are stored in the tables themselves: a
// Load touches one group of one table, writes allocate nothing, and the
// garbage collector never scans the map. When K is a string type (or a
// defined type of string), V is such a value, and the map keeps no
// insertion order, the keys' bytes are stored in append-only byte arenas
// of the tables and the values inline: updates of present keys allocate
// nothing, and the map holds no heap object per key; the keys that Range,
// All, Keys and snapshots hand out point into those arenas (no copy) and
// stay valid and unchanged for as long as they are used. Other maps store
// pointers to entries. New chooses; [Stats].Layout reports it.
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
// the segments and the readers' array rd.
type state[K comparable, V any] struct {
	// rd is the readers' array: rd[i] (a slot) holds segment i's current
	// table and count, for len(segs) slots. It is the one pointer a
	// lock-free read loads before hashing into a segment, and the one
	// thing Clear replaces: a new array of empty tables, stored with every
	// segment lock held, so readers see every segment cleared at once (see
	// Map.Clear). Set by init before the state is shared; never nil after.
	rd     atomic.Pointer[slot[K, V]]
	hasher table.Hasher[K]
	// shift == (64 - log2(len(segs))) & 63 and mask == len(segs)-1:
	// segment index = hash >> shift & mask, the top bits of the hash.
	shift uint
	mask  uint64
	segs  []segment[K, V]
	// locks has one stripe per segment: stripe i guards segs[i] and rd's
	// slot i. Every stripe is taken at once by lockAll only (lockall.go),
	// which never waits while holding a stripe, so Snapshot and Clear
	// cannot deadlock and do not hold other segments' writers while they
	// wait.
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
	// arena: the tables are arena tables (internal/table's Arena): K is
	// a string type, V holds no pointers and is small
	// (table.ArenaFits), and the map keeps no insertion order. Never set
	// with flat. Immutable.
	arena bool
	// extra is nil unless the map keeps insertion order or is bounded
	// (WithInsertionOrder, WithMaxLen); the write engine (write.go) calls
	// its hooks (extra.go) if it is set. Load never reads it.
	extra *extra[K, V]
	// glock: ordinary writes take group locks, not the segment lock
	// (grouplock.go): the map is flat and has no options. Immutable.
	glock bool
	// calls holds the LoadOrCompute calls in flight (inflight.go).
	calls inflight[K, V]
	// allMu is held by lockAll while it takes every segment lock
	// (lockall.go): one such taker at a time.
	allMu sync.Mutex
	// awaited says what lockAll, holding allMu, waits for: segment i's
	// lock (i+1), the group locks of the tables it seals (awaitGroups),
	// or nothing (0). Only lockAll writes it. A writer that releases
	// what lockAll waits for yields the processor at once (handOff), so
	// that lockAll takes it before the writer's next write, instead of
	// after the writer's time slice (lockall.go, "Hand-off"). A plain
	// word, stored and loaded with sync/atomic's functions: the light
	// writes load it, and atomic.Int32's Load is a call in a program
	// that does not import sync/atomic (TestLightFlatWriteInlines).
	awaited int32
}

// testHookEntryLayout, if set (by tests only), makes New give every map the
// entry layout, so that tests written for flat maps also run on the entry
// layout.
var testHookEntryLayout atomic.Bool

// testHookClear, if set (by tests only, before any map is used), runs in
// Clear after segment i's new table is made its writers' table, and before
// the readers' array is replaced, with every lock held.
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
		st.extra = newExtra[K, V](&c)
	}
	st.flat = table.FlatFits[K, V]() && (st.extra == nil || !st.extra.ordered) && !testHookEntryLayout.Load()
	st.arena = table.ArenaFits[K, V]() && (st.extra == nil || !st.extra.ordered) && !testHookEntryLayout.Load()
	st.glock = st.flat && st.extra == nil
	if x := st.extra; x != nil && x.policy == RejectNew {
		// Each segment's share of maxLen keys (mean + 7σ + 1, as for
		// Reserve), with an eighth of the load bound to spare for
		// tombstones, so that same-size cleanups stay rare.
		x.fixedGroups = st.shareGroups("WithMaxLen", c.maxLen, true)
	}
	g := st.shareGroups("WithCapacity", c.capacity, false)
	rd := make([]slot[K, V], n)
	for i := range st.segs {
		s := &st.segs[i]
		s.attach(&rd[i], st.glock)
		s.minGroups = g
		if x := st.extra; x != nil {
			if x.policy == RejectNew {
				s.minGroups, s.fixed = max(g, x.fixedGroups), true
			}
			if x.ordered {
				s.log = table.NewLog[K, V](x.single)
			}
		}
		s.table.Store(st.newTable(s.minGroups))
		s.setQuotas(s.table.Load(), 0) // born unsealed (NewFlat)
	}
	st.rd.Store(&rd[0])
}

// newTable returns an empty table of n groups in the map's layout.
func (st *state[K, V]) newTable(n int) *table.Table[K, V] {
	if st.arena {
		return table.NewArenaTable[K, V](n)
	}
	return table.NewLayout[K, V](n, st.flat)
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

// table returns the current table of the segment of hash h, for a
// lock-free reader.
func (st *state[K, V]) table(h uint64) *table.Table[K, V] {
	return st.slotOf(st.rd.Load(), h).table.Load()
}

// slotOf returns the slot of hash h's segment in the readers' array rd.
//
// Soundness of the unsafe index: rd points to the first of len(segs)
// slots, allocated together (init, Clear), and the index h >> shift &
// mask is at most mask == len(segs)-1, so the slot lies inside that
// array; checkptr accepts the pointer, which stays within one object.
// It saves the bounds check, and the load of a slice length, that
// indexing a slice would cost every read.
func (st *state[K, V]) slotOf(rd *slot[K, V], h uint64) *slot[K, V] {
	return (*slot[K, V])(unsafe.Add(unsafe.Pointer(rd), uintptr(h>>(st.shift&63)&st.mask)*unsafe.Sizeof(slot[K, V]{})))
}

// slots returns the current readers' array, one slot per segment,
// loaded atomically as a reader loads it.
func (st *state[K, V]) slots() []slot[K, V] {
	return unsafe.Slice(st.rd.Load(), len(st.segs))
}

// entry returns a new entry of key and value for a map of the entry
// layout, allocated before the writer takes its lock; nil for a flat or
// arena map, which stores key and value themselves.
func (st *state[K, V]) entry(key K, value V) *table.Entry[K, V] {
	if st.flat || st.arena {
		return nil
	}
	return &table.Entry[K, V]{Key: key, Value: value}
}

// hash returns key's hash, as st.hasher.Hash does, with the inline cases
// first: a string key of at most 16 bytes (hashed from its two words; Load
// spells out those of 4 to 16 bytes) and an 8-byte integer; other keys
// call Hash. The view of key as a string is sound for the reason given in
// Load: ShortStr reports true only if K's underlying type is string.
func (st *state[K, V]) hash(key K) uint64 {
	if unsafe.Sizeof(key) == unsafe.Sizeof("") && st.hasher.ShortStr() {
		s := *(*string)(unsafe.Pointer(&key))
		if uint(len(s))-4 <= 12 {
			a, b := table.KeyWords(s)
			return st.hasher.StrMix(a, b, uint64(len(s)))
		}
		if len(s) < 4 { // words such as "a", "of", "the"
			a, b := table.TinyWords(s)
			return st.hasher.StrMix(a, b, uint64(len(s)))
		}
	}
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
	// The read path, spelled out so that a Load that ends in its key's
	// home group makes no call (but the hash of a key that is neither an
	// 8-byte integer nor a short string): the readers' array, the segment's slot, its table,
	// and the layout's home-group probe (internal/table's flat_read.go,
	// entry_read.go, arena_read.go), each inlined; an arena map's key of
	// 4 to 16 bytes is also hashed and compared inline (table.KeyWords),
	// so that its whole Load makes no call. Longer probes call the table. A
	// Map made by New reads own, immutable, with no further load; a zero
	// Map, whose own.rd stays nil, reads its state in loadZero.
	st := &m.own
	rd := st.rd.Load()
	if rd == nil {
		return m.loadZero(key)
	}
	// A string key of 4 to 16 bytes, hashed by the default hasher: its two
	// words are read once (table.KeyWords) and hashed inline; an arena
	// map compares them with each candidate record's words. The size test
	// is a constant of each instantiation: a key type of another size
	// compiles neither path. The view of key as a string is sound: it is
	// taken only if ShortStr reports true, which it does only if K's
	// underlying type is string, so that K and string share one
	// representation.
	var h uint64
	short := false
	if unsafe.Sizeof(key) == unsafe.Sizeof("") && st.hasher.ShortStr() {
		if s := *(*string)(unsafe.Pointer(&key)); uint(len(s))-4 <= 12 {
			a, b := table.KeyWords(s)
			h, short = st.hasher.StrMix(a, b, uint64(len(s))), true
			if st.arena { // immutable, as flat
				t := st.slotOf(rd, h).table.Load()
				g := t.ArenaHome(h)
				for m := g.Matches(); m != 0; m &= m - 1 {
					if r := g.Ref(g.Slot(m)); g.Check(r, h) {
						// (Short's "" means another length: KeyWords is not called on it)
						if rs := g.Short(g.Chunk(r), r, uint64(len(s))); rs != "" {
							if x, y := table.KeyWords(rs); x == a && y == b {
								if unsafe.Sizeof(value) <= 8 { // a constant: see Value1
									value = g.Value1(g.Slot(m))
								} else {
									value = g.Value(g.Slot(m))
								}
								ok = true
								break
							}
						}
					}
				}
				if g.Settled(h, ok) {
					return value, ok
				}
				if !ok && !g.Moved() { // the home group is full: on to the next
					return t.Arena().FindAfter(h, key)
				}
				return t.Arena().Find(h, key)
			}
		}
	}
	if !short {
		var isInt bool
		if h, isInt = st.hasher.IntHash(key); !isInt {
			h = st.hasher.Hash(key)
		}
	}
	t := st.slotOf(rd, h).table.Load()
	if unsafe.Sizeof(key) == unsafe.Sizeof("") && st.arena { // immutable, as flat
		// (keys of 0x80 bytes or more take Arena.Find: see arena_read.go)
		// The view of key as a string is sound: st.arena is set only if
		// K's underlying type is string (table.ArenaFits), so K and string
		// share one representation; other instantiations never run it.
		if s := *(*string)(unsafe.Pointer(&key)); len(s) < 0x80 {
			g := t.ArenaHome(h)
			for m := g.Matches(); m != 0; m &= m - 1 {
				if r := g.Ref(g.Slot(m)); g.Check(r, h) && g.Is(g.Chunk(r), r, s) {
					if i := g.Slot(m); unsafe.Sizeof(value) <= 8 { // a constant: see Value1
						value = g.Value1(i)
					} else {
						value = g.Value(i)
					}
					ok = true
					break
				}
			}
			if g.Settled(h, ok) {
				return value, ok
			}
			if !ok && !g.Moved() { // the home group is full: on to the next
				return t.Arena().FindAfter(h, key)
			}
		}
		return t.Arena().Find(h, key)
	}
	if st.flat { // immutable: the same branch for every call
		g := t.FlatHome(h)
		if table.FlatOneWord[K, V]() { // a constant
			value, ok = g.Find1(key)
		} else {
			for m := g.Matches(); m != 0; m &= m - 1 {
				if i := g.Slot(m); g.Key(i) == key {
					if unsafe.Sizeof(value) <= 8 { // a constant: see Value1
						value = g.Value1(i)
					} else {
						value = g.Value(i)
					}
					ok = true
					break
				}
			}
		}
		if g.Settled(h, ok) {
			return value, ok
		}
		if !ok && !g.Moved() { // the home group is full: on to the next
			return t.Flat().FindAfter(h, key)
		}
		return t.Flat().Find(h, key)
	}
	g := t.EntryHome(h)
	e := g.Find(h, key)
	if e == nil && !g.Stops() {
		e = t.Find(h, key)
	}
	if e == nil {
		return value, false
	}
	return e.Value, true
}

// loadZero is Load for a Map that New did not make.
func (m *Map[K, V]) loadZero(key K) (value V, ok bool) {
	st := m.st.Load()
	if st == nil {
		return value, false
	}
	return st.get(st.hasher.Hash(key), key)
}

// get returns key's value, hashed h, and whether key is present: Load's
// home-group steps behind one call (table's Read), for a zero Map's Load.
// It takes no lock.
func (st *state[K, V]) get(h uint64, key K) (value V, ok bool) {
	return st.table(h).Read(h, key)
}

// lookup is the lock-free lookup of the read paths that may go on to
// write, for key hashed h: whether key is present and its value, and, in
// an entry or arena table, its table, slot and entry or ref, as a hint
// that open takes; a flat table gives the zero hint: its slots hold no
// identity that open could check.
//
// It reads one table, of one readers' array: a Clear that runs meanwhile
// replaces the whole array at one instant, so the answer is that of the
// map before or after that instant, never of a map cleared in part.
func (st *state[K, V]) lookup(h uint64, key K) (v V, ok bool, hn hint[K, V]) {
	if st.arena {
		_, v, ok, hn = st.lookupArena(key, h, true)
		return v, ok, hn
	}
	t := st.table(h)
	if t.IsInline() {
		v, ok = t.Get(h, key)
		return v, ok, hint[K, V]{}
	}
	if pos, e := t.Lookup(h, key); e != nil {
		return e.Value, true, hint[K, V]{t: t, pos: pos, e: e}
	}
	return v, false, hint[K, V]{}
}

// lookupArena is lookup in an arena map, hashing key itself unless
// hashed (h is then its hash; the hash used is returned). The hash of a
// short key (state.hash's first case, which does not inline) and the
// probe of its home group are spelled out as in Load, so that a lookup
// that the home group settles makes one call, this one (the view of key
// as a string: see Load); then the whole probe. Either gives key's slot
// and ref.
func (st *state[K, V]) lookupArena(key K, h uint64, hashed bool) (uint64, V, bool, hint[K, V]) {
	var v V
	if unsafe.Sizeof(key) != unsafe.Sizeof("") { // a constant: K is no string
		panic("cmap: internal error: lookupArena in a map whose keys are not strings")
	}
	s := *(*string)(unsafe.Pointer(&key))
	if !hashed {
		if st.hasher.ShortStr() && uint(len(s))-4 <= 12 {
			a, b := table.KeyWords(s)
			h = st.hasher.StrMix(a, b, uint64(len(s)))
		} else {
			h = st.hash(key)
		}
	}
	t := st.table(h)
	pos, ref := table.NoPos, uint64(0)
	if len(s) < 0x80 {
		g := t.ArenaHome(h)
		for m := g.Matches(); m != 0; m &= m - 1 {
			if r := g.Ref(g.Slot(m)); g.Check(r, h) && g.Is(g.Chunk(r), r, s) {
				v, pos, ref = g.Value(g.Slot(m)), g.Pos(h, g.Slot(m)), r
				break
			}
		}
		if !g.Settled(h, pos != table.NoPos) {
			v, pos, ref = t.Arena().Lookup(h, key)
		}
	} else {
		v, pos, ref = t.Arena().Lookup(h, key)
	}
	if pos == table.NoPos {
		return h, v, false, hint[K, V]{}
	}
	return h, v, true, hint[K, V]{t: t, pos: pos, ref: ref}
}

// Store sets the value for key. On a map bounded by [WithMaxLen], storing
// a new key into a full map evicts the oldest entry first ([EvictOldest])
// or panics with an error wrapping [ErrFull], changing nothing
// ([RejectNew]; [Map.TryStore] returns the error instead).
func (m *Map[K, V]) Store(key K, value V) {
	if _, _, err := m.swap("Store", key, value, false); err != nil {
		panic(err)
	}
}

// Swap stores value for key and returns the previous value, if any. loaded
// reports whether key was present.
func (m *Map[K, V]) Swap(key K, value V) (previous V, loaded bool) {
	previous, loaded, err := m.swap("Swap", key, value, true)
	if err != nil {
		panic(err)
	}
	return previous, loaded
}

// swap is Swap, returning the ErrFull error of a full RejectNew map; fn
// names the method called. previous and loaded are returned only if prev
// is set: Store and TryStore, which drop them, do not read the old value.
//
// It holds the light writes' calls (aswap, fwrite) and leaves the rest to
// swapEngine, so that its frame is small: a frame holding the write
// engine's writer and deferred close cost an arena map's Store 36
// instructions (callgrind) before its light write was called.
func (m *Map[K, V]) swap(fn string, key K, value V, prev bool) (previous V, loaded bool, err error) {
	st := m.state()
	if st.arena && st.extra == nil { // both immutable
		return st.aswap(fn, key, value, prev)
	}
	h := st.hash(key)
	if st.glock && table.FlatOneWord[K, V]() { // a constant, and immutable
		var done bool
		if previous, loaded, done = st.fwrite(fn, fSwap, key, h, value, value, prev, nil); done {
			return previous, loaded, nil
		}
	}
	return st.swapEngine(fn, key, h, value, prev)
}

// swapEngine is the rest of swap: key, hashed h, in its group's light
// write (gbegin) or in the write engine.
func (st *state[K, V]) swapEngine(fn string, key K, h uint64, value V, prev bool) (previous V, loaded bool, err error) {
	if st.glock {
		var g gwrite[K, V]
		if st.gbegin(&g, h, key, true, false) {
			if g.found() && prev {
				previous, loaded = g.value(), true
			}
			g.put(value)
			g.close(fn)
			return previous, loaded, nil
		}
	}
	ne := st.entry(key, value) // allocated before the lock
	var w writer[K, V]
	defer w.close()
	w.init(st, fn, key, h)
	w.open(hint[K, V]{})
	return w.swap(value, ne, prev)
}

// swap is the rest of Map.swap in the write engine, w open: ne is the
// entry of key and value in an entry table.
func (w *writer[K, V]) swap(value V, ne *table.Entry[K, V], prev bool) (previous V, loaded bool, err error) {
	if w.found() && prev {
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
	if v, ok := m.Load(key); ok { // Load's inlined probe: a present key costs a Load
		return v, true
	}
	st := m.state()
	h := st.hash(key)
	if st.arena && st.extra == nil { // both immutable
		return st.aloadOrStore(key, h, value)
	}
	if st.glock && table.FlatOneWord[K, V]() { // a constant, and immutable
		var done bool
		if actual, loaded, done = st.fwrite("LoadOrStore", fLoadOrStore, key, h, value, value, false, nil); done {
			return actual, loaded
		}
	}
	return st.loadOrStoreEngine(key, h, value)
}

// loadOrStoreEngine is the rest of LoadOrStore: key, hashed h, in its
// group's light write (gbegin) or in the write engine. (It is apart from
// LoadOrStore for a small frame: see Map.swap.)
func (st *state[K, V]) loadOrStoreEngine(key K, h uint64, value V) (actual V, loaded bool) {
	if st.glock {
		var g gwrite[K, V]
		if st.gbegin(&g, h, key, true, false) {
			if g.found() {
				actual, loaded = g.value(), true
			} else {
				g.put(value)
				actual = value
			}
			g.close("LoadOrStore")
			return actual, loaded
		}
	}
	ne := st.entry(key, value)
	var w writer[K, V]
	defer w.close()
	w.init(st, "LoadOrStore", key, h)
	w.open(hint[K, V]{})
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
	return m.loadAndDelete(key, true)
}

// loadAndDelete is LoadAndDelete; it reads the deleted value only if want
// is set (Delete, which drops it, does not).
//
// It holds the light writes' calls and the lock-free tests of an absent
// key that come before them, and leaves the rest to deleteEngine, so that
// its frame is small (see swap): a short key of an arena map without
// options takes adeleteShort (its home group's lock-free probe, then the
// locked one, cheaper than a lookup's hint, which the locked step would
// check: hint.holds, Arena.Holds); a one-word flat key takes Load's steps,
// then fwrite.
func (m *Map[K, V]) loadAndDelete(key K, want bool) (value V, loaded bool) {
	st := m.loaded()
	if st == nil {
		return value, false
	}
	if st.arena && st.extra == nil && st.shortKey(key) { // immutable, but the key
		return st.adeleteShort(key, want)
	}
	if !st.flat || !table.FlatOneWord[K, V]() { // a constant, and immutable
		return m.deleteEngine(st, key, 0, false, want)
	}
	// Load's steps, inlined here: the key is hashed once, for the
	// lock-free test of an absent key and the light write, and the home
	// group settles most tests with no call. (The same steps behind one
	// call, st.get, cost the uint64 50/25/25 mix 229 instructions per
	// operation against 222, callgrind.)
	h, isInt := st.hasher.IntHash(key)
	if !isInt {
		h = st.hasher.Hash(key)
	}
	t := st.table(h)
	g := t.FlatHome(h)
	_, ok := g.Find1(key)
	if !g.Settled(h, ok) {
		if !ok && !g.Moved() {
			_, ok = t.Flat().FindAfter(h, key)
		} else {
			_, ok = t.Flat().Find(h, key)
		}
	}
	if !ok {
		return value, false
	}
	if st.glock {
		var none V
		var done bool
		if value, loaded, done = st.fwrite("LoadAndDelete", fDelete, key, h, none, none, want, nil); done {
			return value, loaded
		}
	}
	return m.deleteEngine(st, key, h, true, want)
}

// deleteEngine is the rest of loadAndDelete: if found is not set, the
// lock-free test of an absent key; then the group's light write (gbegin),
// an arena map's (adelete) or the write engine. found reports that the
// lock-free test found key present, hashed h.
func (m *Map[K, V]) deleteEngine(st *state[K, V], key K, h uint64, found, want bool) (value V, loaded bool) {
	var hn hint[K, V]
	switch {
	case found:
	case st.flat:
		// Load's inlined probe is the cheapest test of an absent key (no
		// call when the key's home group settles it), and a flat table
		// gives no hint for the locked step anyway.
		if _, ok := m.Load(key); !ok {
			return value, false
		}
		h = st.hash(key)
	case st.arena:
		var ok bool
		if h, _, ok, hn = st.lookupArena(key, 0, false); !ok {
			return value, false
		}
	default:
		h = st.hash(key)
		var ok bool
		if _, ok, hn = st.lookup(h, key); !ok {
			return value, false
		}
	}
	if st.glock {
		var g gwrite[K, V]
		if st.gbegin(&g, h, key, false, true) {
			if g.found() {
				if want {
					value = g.value()
				}
				loaded = true
				g.del()
			}
			g.close("LoadAndDelete")
			return value, loaded
		}
	}
	if st.arena && st.extra == nil { // both immutable
		return st.adelete(key, h, &hn, want)
	}
	var w writer[K, V]
	defer w.close()
	w.init(st, "LoadAndDelete", key, h)
	w.open(hn)
	if !w.found() {
		return value, false
	}
	if want {
		value = w.value()
	}
	w.del()
	return value, true
}

// Delete deletes the value for key. When key is absent it takes no lock and
// allocates nothing.
func (m *Map[K, V]) Delete(key K) {
	m.loadAndDelete(key, false)
}

// testHookCompared, if set (by tests only, while no writer runs), is
// called by CompareAndSwap and CompareAndDelete of a flat map, holding no
// lock, between the lock-free compare and the locked step.
var testHookCompared func()

// holds is the lock-free first step of CompareAndSwap and CompareAndDelete
// (named by fn): it panics if V is not comparable, and reports whether key
// holds old now; if not, the operation fails without taking a lock (a
// failed compare is linearizable at this read). It returns key's hash and
// the lookup's hint for the locked second step.
func (m *Map[K, V]) holds(st *state[K, V], fn string, key K, old V) (h uint64, hn hint[K, V], ok bool) {
	if !st.valueComparable {
		panic(fmt.Sprintf("cmap: %s: value type %v is not comparable", fn, reflect.TypeFor[V]()))
	}
	if st.flat {
		// As LoadAndDelete: Load's inlined probe, and no hint to take;
		// the hash only for the locked step.
		if v, found := m.Load(key); !found || any(v) != any(old) {
			return 0, hn, false
		}
		if testHookCompared != nil {
			testHookCompared()
		}
		return st.hash(key), hn, true
	}
	var v V
	var found bool
	if st.arena {
		h, v, found, hn = st.lookupArena(key, 0, false)
	} else {
		h = st.hash(key)
		v, found, hn = st.lookup(h, key)
	}
	return h, hn, found && any(v) == any(old)
}

// CompareAndSwap swaps the old and new values for key if the value stored
// in the map is equal to old. It panics if V is not a comparable type, like
// sync.Map; a V that is an interface type holding an incomparable value
// panics as == does, leaving the map unchanged.
func (m *Map[K, V]) CompareAndSwap(key K, old, new V) (swapped bool) {
	st := m.state()
	h, hn, maybe := m.holds(st, "CompareAndSwap", key, old)
	if !maybe {
		return false
	}
	if st.arena && st.extra == nil { // both immutable
		return st.acompareAndSwap(key, h, &hn, old, new)
	}
	if st.glock && table.FlatOneWord[K, V]() { // a constant, and immutable
		var done bool
		if _, swapped, done = st.fwrite("CompareAndSwap", fCompareSwap, key, h, new, old, false, nil); done {
			return swapped
		}
	}
	return st.compareAndSwapEngine(key, h, &hn, old, new)
}

// compareAndSwapEngine is the rest of CompareAndSwap: key, hashed h,
// which holds found with hint hn, in its group's light write (gbegin) or
// in the write engine. (It is apart for a small frame: see Map.swap.)
func (st *state[K, V]) compareAndSwapEngine(key K, h uint64, hn *hint[K, V], old, new V) (swapped bool) {
	if st.glock {
		var g gwrite[K, V]
		if st.gbegin(&g, h, key, false, false) {
			if swapped = g.found() && any(g.value()) == any(old); swapped {
				g.put(new)
			}
			g.close("CompareAndSwap")
			return swapped
		}
	}
	ne := st.entry(key, new)
	var w writer[K, V]
	defer w.close()
	w.init(st, "CompareAndSwap", key, h)
	w.open(*hn)
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
	h, hn, maybe := m.holds(st, "CompareAndDelete", key, old)
	if !maybe {
		return false
	}
	if st.arena && st.extra == nil { // both immutable
		return st.acompareAndDelete(key, h, &hn, old)
	}
	if st.glock && table.FlatOneWord[K, V]() { // a constant, and immutable
		var done bool
		if _, deleted, done = st.fwrite("CompareAndDelete", fCompareDelete, key, h, old, old, false, nil); done {
			return deleted
		}
	}
	return st.compareAndDeleteEngine(key, h, &hn, old)
}

// compareAndDeleteEngine is the rest of CompareAndDelete, as
// compareAndSwapEngine is of CompareAndSwap.
func (st *state[K, V]) compareAndDeleteEngine(key K, h uint64, hn *hint[K, V], old V) (deleted bool) {
	for try := 0; st.glock && try < 2; try++ {
		var g gwrite[K, V]
		if !st.gbegin(&g, h, key, false, false) {
			break
		}
		// The delete's share of the shrink rule is taken once the
		// compare holds (takeDelete); beyond it, a reshare (reshareFor)
		// and one more try, then the engine deletes.
		deleted = g.found() && any(g.value()) == any(old)
		if !deleted || g.takeDelete() {
			if deleted {
				g.del()
			}
			g.close("CompareAndDelete")
			return deleted
		}
		g.close("CompareAndDelete")
		if try > 0 || !st.reshareFor(&g) {
			break
		}
	}
	var w writer[K, V]
	defer w.close()
	w.init(st, "CompareAndDelete", key, h)
	w.open(*hn)
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
	// The counts are in the readers' array, beside the tables, so that a
	// Clear replaces both at one instant: a count read from an array that
	// a Clear replaced meanwhile is its last, exact at that instant.
	rd := st.slots()
	n := int64(0)
	for i := range rd {
		n += rd[i].liveN()
	}
	if b := st.bound(); b > 0 {
		n = min(n, b)
	}
	return int(n)
}

// Clear deletes all the entries, atomically: it holds every segment lock at
// once, so no writer and no snapshot sees some segments cleared and others
// not, and it replaces the readers' array (every segment's table and
// count) with one store, so no lock-free reader (Load, Len, and the
// lock-free first steps of the other methods) does either. It gives the
// tables' memory back, keeping the capacity reserved by [Map.Reserve] or
// [WithCapacity]. It waits for writers as [Map.Snapshot] does, never
// holding one segment's lock while it waits for another's.
func (m *Map[K, V]) Clear() {
	st := m.loaded()
	if st == nil {
		return
	}
	st.lockAll()
	defer st.unlockAll()
	old := st.slots()
	rd := make([]slot[K, V], len(st.segs))
	cleared := 0
	for i := range st.segs {
		// Each segment's writers move to the new array now (they are all
		// locked out): its slot there holds an empty table and count 0.
		s := &st.segs[i]
		cleared += int(old[i].liveN())
		nt := st.newTable(s.minGroups)
		if st.glock {
			nt.Flat().Seal() // until unlockAll: see lockSeg
		}
		rd[i].table.Store(nt)
		s.dropPreparedLocked()
		s.attach(&rd[i], st.glock)
		s.frozen, s.pins = false, 0
		s.quiet = st.glock // nt: sealed above
		if testHookClear != nil {
			testHookClear(i)
		}
	}
	// Clear's linearization point: lock-free readers load the new array
	// from here on, and those that loaded the old one read tables that
	// nobody writes any more, the map as it was just before.
	st.rd.Store(&rd[0])
	st.clearedLocked(cleared)
}
