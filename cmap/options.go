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
}

// WithCapacity makes room for n entries at construction, like calling
// [Map.Reserve](n) on the new map. It panics if n is negative.
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
// with a fixed seed gives the same layout and iteration order in every
// run, which makes failures replayable; [StringXXHash] is one.
//
// It panics if h is nil; [New] panics if K is not the map's key type.
func WithHasher[K comparable](h func(seed uint64, key K) uint64) Option {
	if h == nil {
		panic("cmap: WithHasher: nil hasher")
	}
	return func(c *config) { c.hasher, c.hasherKey = h, reflect.TypeFor[K]() }
}

// WithSeed sets the seed handed to the hasher given by [WithHasher]; it is
// random when absent. The default hasher ([hash/maphash]) always draws a
// random seed per map, which is what protects it against HashDoS, and
// ignores WithSeed.
func WithSeed(seed uint64) Option {
	return func(c *config) { c.seed, c.seedSet = seed, true }
}

// StringXXHash is a deterministic, seeded hasher for string keys (xxHash64,
// github.com/cespare/xxhash/v2): the same key and seed give the same hash
// in every process and Go version. Use it with [WithHasher] and [WithSeed]
// for reproducible layouts and iteration order. Unlike the default hasher
// it is not HashDoS-resistant when the seed is known.
func StringXXHash(seed uint64, key string) uint64 {
	var d xxhash.Digest
	d.ResetWithSeed(seed)
	_, _ = d.WriteString(key)
	return d.Sum64()
}
