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
	// strKey is set when K's underlying type is string (and no user
	// hasher is set): keys of at most 16 bytes are hashed by strHash
	// (which cmap's Load spells out inline for 4 to 16 bytes), longer
	// ones by maphash.String.
	strKey bool
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
		case reflect.String:
			h.strKey = true
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
	if h.strKey {
		// The view is sound: strKey is set only if K's underlying type
		// is string, so K and string share one representation.
		s := *(*string)(unsafe.Pointer(&key))
		if len(s) <= 16 {
			return strHash(h.seed, s)
		}
		return maphash.String(h.mseed, s)
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
//
// Safety of the view of key as a uint64: it is taken only when K's
// underlying type is an integer kind of 8 bytes (MakeHasher checks both
// before it sets intKey), so K is 8 bytes of plain data with no pointers
// and reading them from the parameter key, a private copy no other
// goroutine can race on, is exactly a conversion. It turns the key into
// the mixer's input with no call (BenchmarkLoad in cmap: see
// docs/benchmarks.md). It is written here, not in a generic helper of K:
// an inlined call to such a helper leaves cmap's Load a load of the
// helper's dictionary and a nil check of it, two instructions for nothing
// (go1.26.8, go tool objdump). (The module's other uses of
// unsafe, each with its own argument: flat.go's views of keys and values
// as words, and the address that striped's Counter hashes.)
func (h *Hasher[K]) IntHash(key K) (uint64, bool) {
	if !h.intKey {
		return 0, false
	}
	return mixInt(h.seed, *(*uint64)(unsafe.Pointer(&key))), true
}

// ShortStr reports whether keys of at most 16 bytes are hashed by
// strHash, which cmap's Load then spells out (KeyWords, StrMix): K's
// underlying type is string and no user hasher is set.
func (h *Hasher[K]) ShortStr() bool { return h.strKey }

// StrMix returns Hash of the key of 4 to 16 bytes whose KeyWords are a
// and b and whose length is n, if ShortStr reports true.
func (h *Hasher[K]) StrMix(a, b, n uint64) uint64 { return strMix(h.seed, a, b, n) }

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

// strHash hashes a string of at most 16 bytes with a secret seed: its
// bytes read as two words by keyWords (overlapping loads, as wyhash reads
// them), then two rounds of 128-bit multiply and fold, with the length in
// the second (the wyhash construction, which the Go runtime's own
// fallback hasher uses). For such keys it takes about 2 ns where
// maphash.String takes about 4: its call reaches the runtime's hasher
// through two more calls (BenchmarkHashString, and the same loop calling
// strHash directly); longer keys are hashed by maphash.String, keyed by a
// seed of their own.
func strHash(seed uint64, s string) uint64 {
	a, b := keyWords(s)
	return strMix(seed, a, b, uint64(len(s)))
}

// strMix is strHash of the key of n bytes whose keyWords are a and b.
// (Generic to inline: see word in ctrl.go.)
func strMix[W word](seed, a, b, n W) uint64 {
	hi, lo := bits.Mul64(uint64(a)^0xa0761d6478bd642f, uint64(b^seed))
	hi, lo = bits.Mul64(hi^0xe7037ed1a0b428db, lo^uint64(n)^0x8ebc6af09c88c6e3)
	return hi ^ lo
}

// keyWords returns two words that hold every byte of s, of n <= 16
// bytes: for n >= 8 the 8-byte words at 0 and n-8, for 4 <= n < 8 the
// 4-byte words at 0 and n-4, and below the bytes at 0 and n-1 in a and
// the byte at n/2 in b. Two keys of one length are equal if and only if
// their words are, so the words serve as the key both for strMix and for
// comparing a key with a record (cmap's Load, with ArenaGroup.Short).
//
// Every load lies inside s's bytes; for n == 0 it reads nothing.
func keyWords(s string) (a, b uint64) {
	if len(s) >= 4 {
		return KeyWords(s)
	}
	return TinyWords(s)
}

// TinyWords is keyWords for a key of 0 to 3 bytes, which cmap's writers
// hash inline (state.hash): the bytes at 0 and n-1 in a, the byte at n/2
// in b; nothing is read for n == 0. (Generic to inline, as KeyWords.)
func TinyWords[S ~string](s S) (a, b uint64) {
	p, n := unsafe.Pointer(unsafe.StringData(string(s))), uintptr(len(s))
	if n != 0 {
		return uint64(*(*byte)(p)) | uint64(*(*byte)(unsafe.Add(p, n-1)))<<8, uint64(*(*byte)(unsafe.Add(p, n>>1)))
	}
	return 0, 0
}

// KeyWords is keyWords for a key of 4 to 16 bytes, the case that cmap's
// Load spells out: small enough to inline. (Generic, as are load64 and
// load32, to inline into cmap's instantiations: see word in ctrl.go.)
func KeyWords[S ~string](s S) (a, b uint64) {
	p, n := unsafe.Pointer(unsafe.StringData(string(s))), uintptr(len(s))
	if n >= 8 {
		return load64[uint64](p), load64[uint64](unsafe.Add(p, n-8))
	}
	return load32[uint64](p), load32[uint64](unsafe.Add(p, n-4))
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
