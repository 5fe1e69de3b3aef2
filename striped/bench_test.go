package striped_test

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/striped"
)

// Run with: go test -run='^$' -bench=. -benchtime=200ms ./striped/
// Compare implementations with benchstat -col /impl.

// BenchmarkCounterAdd: Counter.Add against one shared atomic.Int64, every
// goroutine adding in a loop (the worst case for the single atomic).
func BenchmarkCounterAdd(b *testing.B) {
	for _, par := range []int{1, 4} { // goroutines per GOMAXPROCS
		b.Run("impl=atomic/par="+strconv.Itoa(par), func(b *testing.B) {
			var n atomic.Int64
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n.Add(1)
				}
			})
		})
		b.Run("impl=counter/par="+strconv.Itoa(par), func(b *testing.B) {
			var c striped.Counter
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c.Add(1)
				}
			})
		})
	}
}

// BenchmarkCounterLoad: what the cells cost a reader.
func BenchmarkCounterLoad(b *testing.B) {
	b.Run("impl=atomic", func(b *testing.B) {
		var n atomic.Int64
		for b.Loop() {
			n.Load()
		}
	})
	b.Run("impl=counter", func(b *testing.B) {
		c := striped.NewCounter()
		c.Inflate()
		for b.Loop() {
			c.Load()
		}
	})
}

// BenchmarkLock: lock and unlock of a key that each goroutine picks at
// random among many, with Striped against one sync.Mutex for all keys
// (and Stripes by index, which skips the hash). work is the number of
// spin iterations done under the lock (about 1 ns each): with none, the
// mutex's line is all there is to contend for.
func BenchmarkLock(b *testing.B) {
	const stripes = 64
	for _, work := range []int{0, 50} {
		suffix := "/work=" + strconv.Itoa(work)
		b.Run("impl=mutex"+suffix, func(b *testing.B) {
			var mu sync.Mutex
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 0))
				for pb.Next() {
					_ = r.Uint64()
					mu.Lock()
					spin(work)
					mu.Unlock()
				}
			})
		})
		b.Run("impl=striped"+suffix, func(b *testing.B) {
			s := striped.New[uint64](stripes)
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 0))
				for pb.Next() {
					k := r.Uint64()
					s.Lock(k)
					spin(work)
					s.Unlock(k)
				}
			})
		})
		b.Run("impl=stripes"+suffix, func(b *testing.B) {
			s := striped.NewStripes(stripes)
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 0))
				for pb.Next() {
					i := int(r.Uint64() & (stripes - 1))
					s.Lock(i)
					spin(work)
					s.Unlock(i)
				}
			})
		})
	}
}

// spinSink keeps spin's loop from being optimized away.
var spinSink atomic.Uint64

// spin does n iterations of dependent arithmetic, a stand-in for the work
// done under a lock.
func spin(n int) {
	x := uint64(n)
	for i := range n {
		x = x*0x9E3779B97F4A7C15 + uint64(i)
	}
	if x == 1 {
		spinSink.Store(x)
	}
}

// BenchmarkLockKeys: an atomic update of two random keys, with LockKeys
// against one sync.Mutex.
func BenchmarkLockKeys(b *testing.B) {
	const stripes = 64
	b.Run("impl=mutex/keys=2", func(b *testing.B) {
		var mu sync.Mutex
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(rand.Uint64(), 0))
			for pb.Next() {
				_, _ = r.Uint64(), r.Uint64()
				mu.Lock()
				//lint:ignore SA2001 the empty critical section is what is measured
				mu.Unlock()
			}
		})
	})
	b.Run("impl=striped/keys=2", func(b *testing.B) {
		s := striped.New[uint64](stripes)
		b.RunParallel(func(pb *testing.PB) {
			r := rand.New(rand.NewPCG(rand.Uint64(), 0))
			for pb.Next() {
				unlock := s.LockKeys(r.Uint64(), r.Uint64())
				unlock()
			}
		})
	})
}
