package main

import (
	"math/bits"
	"strconv"
	"sync"
)

// Keys. Key number i is the same for every map, every workload and every
// N: a workload over N keys uses keys [0, N) for its pre-fill and draws
// from [0, 2N) when half of its loads must miss, so one key set built for
// the largest N serves every smaller N as a prefix.
//
// uint64 key i is splitmix64(i): distinct (splitmix64 is a bijection),
// spread over all 64 bits, so no map profits from sequential keys. string
// key i is "key-<i>", formatted once before any timing.

// splitmix64 is the finalizer of the SplitMix64 generator: a bijection on
// uint64 that mixes every input bit into every output bit.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rng is the per-goroutine PRNG of the harness (wyrand): one add and one
// 64×64→128 multiply per number.
type rng struct{ s uint64 }

// newRNG returns the generator of goroutine g for the run seed; goroutine g
// draws the same sequence whichever map it drives.
func newRNG(seed uint64, g int) rng {
	return rng{s: splitmix64(seed ^ splitmix64(uint64(g)+1))}
}

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// reduce maps the top 32 bits of x uniformly onto [0, n), n < 2^32
// (Lemire's multiply-shift, no division).
func reduce(x, n uint64) uint64 {
	return ((x >> 32) * n) >> 32
}

// keyCache builds each key type at most once per process, growing it when a
// larger count is asked for.
var keyCache struct {
	mu  sync.Mutex
	u64 []uint64
	str []string
}

// u64Keys returns uint64 keys [0, count).
func u64Keys(count int) []uint64 {
	keyCache.mu.Lock()
	defer keyCache.mu.Unlock()
	for i := len(keyCache.u64); i < count; i++ {
		keyCache.u64 = append(keyCache.u64, splitmix64(uint64(i)))
	}
	return keyCache.u64[:count:count]
}

// strKeys returns string keys [0, count).
func strKeys(count int) []string {
	keyCache.mu.Lock()
	defer keyCache.mu.Unlock()
	for i := len(keyCache.str); i < count; i++ {
		keyCache.str = append(keyCache.str, "key-"+strconv.Itoa(i))
	}
	return keyCache.str[:count:count]
}

// keysFor returns keys [0, count) of K, which must be uint64 or string.
func keysFor[K comparable](count int) []K {
	var zero K
	switch any(zero).(type) {
	case uint64:
		return any(u64Keys(count)).([]K)
	case string:
		return any(strKeys(count)).([]K)
	}
	panic("bench: unsupported key type")
}
