package table

import (
	"hash/maphash"
	"math/bits"
	"reflect"
	"unsafe"
)

// Hasher hashes keys of type K for one map. It is immutable after Make.
type Hasher[K comparable] struct {
	// user is the user's hasher (cmap.WithHasher), or nil.
	user func(seed uint64, key K) uint64
	// seed is handed to user, and keys the integer mixer.
	seed uint64
	// mseed keys maphash.Comparable, the default for non-integer keys.
	mseed maphash.Seed
	// intKey is set when K's underlying type is an 8-byte integer type
	// (and no user hasher is set): such keys are hashed by mixInt, 3–4× faster than
	// maphash.Comparable for the same HashDoS resistance against an
	// attacker who does not know the seed.
	intKey bool
}

// MakeHasher returns the Hasher for a map: user (nil for the default) is
// called with seed; the default hasher draws its own random seeds.
func MakeHasher[K comparable](user func(seed uint64, key K) uint64, seed uint64) Hasher[K] {
	h := Hasher[K]{user: user, seed: seed, mseed: maphash.MakeSeed()}
	if user == nil {
		h.seed = maphash.Comparable(h.mseed, uint64(0x5eed))
		switch k := reflect.TypeFor[K](); k.Kind() {
		case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr:
			h.intKey = k.Size() == 8
		}
	}
	return h
}

// Hash returns the hash of key. It panics, leaving nothing changed, if key
// is an interface holding an unhashable dynamic type (as the built-in map
// does), or if the user's hasher panics. Every key is hashed by it (or by
// IntHash, its first branch). It is too big to inline (the inliner's
// budget is 80, and any call costs 57): a call per hash, in which the
// integer mixer and maphash.Comparable are inlined.
func (h *Hasher[K]) Hash(key K) uint64 {
	if v, ok := h.IntHash(key); ok {
		return v
	}
	if h.user == nil {
		return maphash.Comparable(h.mseed, key)
	}
	return h.userHash(key)
}

// IntHash returns Hash(key) and true if keys are 8-byte integers hashed
// by the default mixer, else 0 and false. Unlike Hash it inlines into its
// callers: cmap's Load calls it first, and Hash only if it reports false
// (see Load for the figure).
func (h *Hasher[K]) IntHash(key K) (uint64, bool) {
	if !h.intKey {
		return 0, false
	}
	return mixInt(h.seed, intBits(key)), true
}

// userHash is Hash for a user's hasher: its hash, mixed, which spreads
// hashers that vary only in a few bits over the segment, group and tag
// bits; mix is a bijection, so equal user hashes (a constant hasher)
// still collide.
func (h *Hasher[K]) userHash(key K) uint64 { return mix(h.user(h.seed, key)) }

// mixInt hashes an integer key with a secret seed: two rounds of 128-bit
// multiply and fold (the wyhash construction). (Generic to inline: see
// word in ctrl.go.)
func mixInt[W word](seed, v W) uint64 {
	hi, lo := bits.Mul64(uint64(v^seed), 0x2d358dccaa6c78a5)
	hi, lo = bits.Mul64(hi^lo, 0x8bb84b93962eacc9)
	return hi ^ lo
}

// mix is the murmur3 64-bit finalizer, a bijection.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// intBits returns the bits of an 8-byte integer key.
//
// Safety: it is called only when K's underlying type is an integer kind of
// 8 bytes (MakeHasher checks both), so K is 8 bytes of plain data with no
// pointers and reading them from the local copy k is exactly a conversion;
// k is a private copy, so no other goroutine can race on it. It turns the
// key into the mixer's input with no call (BenchmarkLoad in cmap: see
// docs/benchmarks.md). (The module's other uses of unsafe, each with its
// own argument: flat.go's views of keys and values as words, and the
// address that striped's Counter hashes.)
func intBits[K comparable](k K) uint64 {
	return *(*uint64)(unsafe.Pointer(&k))
}
