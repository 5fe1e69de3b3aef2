package cmap

import (
	"fmt"
	"reflect"

	"github.com/cespare/xxhash/v2"
)

// maxSegments bounds WithSegments: the segment index takes the top bits of
// the hash and must stay clear of the tag bits (32..38).
const maxSegments = 1 << 16

// An Option configures a Map made by [New].
type Option func(*config)

type config struct {
	capacity    int
	segments    int
	hasher      any // func(seed uint64, key K) uint64 for the map's K
	hasherKey   reflect.Type
	seed        uint64
	seedSet     bool
	hasCapacity bool

	ordered    bool
	maxLen     int // 0: unbounded
	policy     BoundPolicy
	onEvict    any // func(key K, value V) for the map's K and V
	onEvictKV  [2]reflect.Type
	hasOnEvict bool
}

// WithCapacity makes room for n entries at construction, like calling
// [Map.Reserve](n) on the new map. It panics if n is negative; [New]
// panics, naming WithCapacity, if the tables for n entries cannot be laid
// out (see [Map.Reserve]).
func WithCapacity(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("cmap: WithCapacity: %d is negative", n))
	}
	return func(c *config) { c.capacity, c.hasCapacity = n, true }
}

// WithSegments sets the number of segments, rounded up to a power of two.
// More segments mean less contention between writers and shorter pauses
// when a segment's table is rebuilt, at a small fixed memory cost each. The
// default is 4×GOMAXPROCS rounded up, at least 16. It panics if n < 1 or n
// is above 65536.
func WithSegments(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("cmap: WithSegments: %d is < 1", n))
	}
	if n > maxSegments {
		panic(fmt.Sprintf("cmap: WithSegments: %d is above the maximum %d", n, maxSegments))
	}
	return func(c *config) { c.segments = n }
}

// WithHasher makes the map hash keys with h, called with the map's seed
// (see [WithSeed]). h must return equal hashes for equal keys and should
// spread keys over all 64 bits; the map mixes its result once more so that
// hashers varying only in low bits still work well. A deterministic hasher
// with a fixed seed places keys in the same slots, and so iterates in the
// same order, in every run, which makes failures replayable;
// [StringXXHash] is one.
//
// It panics if h is nil; [New] panics if K is not the map's key type.
func WithHasher[K comparable](h func(seed uint64, key K) uint64) Option {
	if h == nil {
		panic("cmap: WithHasher: nil hasher")
	}
	return func(c *config) { c.hasher, c.hasherKey = h, reflect.TypeFor[K]() }
}

// WithSeed sets the seed handed to the hasher given by [WithHasher]; it is
// random when absent. The default hasher ([hash/maphash], and
// wyhash-style mixers for 8-byte integers and strings of at most 16
// bytes) always draws a random seed per map, which is what protects it against HashDoS, and
// takes none: [New] panics if WithSeed is given without WithHasher, rather
// than ignore it.
func WithSeed(seed uint64) Option {
	return func(c *config) { c.seed, c.seedSet = seed, true }
}

// StringXXHash is a deterministic, seeded hasher for string keys (xxHash64,
// github.com/cespare/xxhash/v2): the same key and seed give the same hash
// in every process and Go version. Use it with [WithHasher] and [WithSeed]
// for reproducible key placement and iteration order. Unlike the default hasher
// it is not HashDoS-resistant when the seed is known.
func StringXXHash(seed uint64, key string) uint64 {
	var d xxhash.Digest
	d.ResetWithSeed(seed)
	_, _ = d.WriteString(key)
	return d.Sum64()
}

// WithInsertionOrder makes the map remember when each entry was inserted or
// last stored, for [Map.Oldest], [Map.Newest], [Map.PopOldest] and
// [github.com/segmap/segmap/snapshot.Snapshot.InOrder]. An entry is
// "stored" by every write that publishes a value for its key: Store, Swap,
// CompareAndSwap and TryStore (when they change the map), LoadOrStore and
// LoadOrCompute when they store, and Compute with [UpdateOp]; each moves
// the key to the newest position. Load, and the loading paths of
// LoadOrStore and LoadOrCompute, do not.
//
// Cost: each segment keeps an insertion log (24 bytes a record), every
// store takes a number from one map-wide counter, and deleted or
// overwritten values stay reachable from the log until it is compacted:
// after every write, at most as many as the segment's live entries plus 4
// (docs/guarantees.md). Maps built without the option pay none of this
// (docs/design.md, "Insertion order"). The log identifies entries by
// pointer, so an ordered map always uses the entry layout, even for keys
// and values that would otherwise be stored flat or in arenas (see [Stats]).
func WithInsertionOrder() Option {
	return func(c *config) { c.ordered = true }
}

// BoundPolicy says what a map bounded by [WithMaxLen] does when a new key
// is inserted while it holds its maximum number of entries.
type BoundPolicy int

const (
	// EvictOldest removes the oldest entry (in insertion order, which the
	// policy turns on) to make room for the new key: the map is a FIFO
	// cache. See [WithOnEvict].
	EvictOldest BoundPolicy = iota + 1
	// RejectNew refuses the new key: [Map.TryStore] and
	// [Map.LoadOrTryCompute] return an error wrapping [ErrFull], and the
	// other writes that would insert it panic with one. The map is laid out once for its maximum and does not grow.
	RejectNew
)

// String returns the policy's name.
func (p BoundPolicy) String() string {
	switch p {
	case EvictOldest:
		return "EvictOldest"
	case RejectNew:
		return "RejectNew"
	}
	return fmt.Sprintf("BoundPolicy(%d)", int(p))
}

// WithMaxLen bounds the map to n entries: no operation, however many run at
// once, makes it hold more, not even for an instant visible to [Map.Len] or
// [Map.Snapshot]. Updates of existing keys always succeed; policy decides
// what happens to a new key when the map is full:
//
//   - [EvictOldest] turns on [WithInsertionOrder] and removes the oldest
//     entry first, calling the [WithOnEvict] function for it.
//   - [RejectNew] lays the tables out once for n entries (like
//     [WithCapacity](n), with a floor they never shrink below) and rejects
//     the key: [Map.TryStore] and [Map.LoadOrTryCompute] return an error
//     wrapping [ErrFull]; Store, Swap, LoadOrStore, LoadOrCompute and
//     Compute panic with one.
//
// It panics if n < 1 or policy is not one of the two. With RejectNew,
// [New] panics, naming WithMaxLen, if the tables for n entries cannot be
// laid out (see [Map.Reserve]).
func WithMaxLen(n int, policy BoundPolicy) Option {
	if n < 1 {
		panic(fmt.Sprintf("cmap: WithMaxLen: %d is < 1", n))
	}
	if policy != EvictOldest && policy != RejectNew {
		panic(fmt.Sprintf("cmap: WithMaxLen: invalid policy %v", policy))
	}
	return func(c *config) { c.maxLen, c.policy = n, policy }
}

// WithOnEvict makes a map bounded with [WithMaxLen](n, [EvictOldest]) call
// f with each entry it evicts, once per eviction, after the write that
// evicted it has released every lock, in the goroutine of that write: f may
// call any method of the map. Evictions by concurrent writes may call f
// concurrently, in any order. [Map.PopOldest] and deletes do not call f.
// If f panics, the panic propagates from the write, whose effect (the
// eviction and the insert) stands.
//
// It panics if f is nil; [New] panics if the map's key and value types are
// not K and V, or if the map is not bounded with EvictOldest.
func WithOnEvict[K comparable, V any](f func(key K, value V)) Option {
	if f == nil {
		panic("cmap: WithOnEvict: nil function")
	}
	return func(c *config) {
		c.onEvict, c.hasOnEvict = f, true
		c.onEvictKV = [2]reflect.Type{reflect.TypeFor[K](), reflect.TypeFor[V]()}
	}
}
