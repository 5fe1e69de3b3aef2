//go:build linux

package cmap_test

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/puzpuzpuz/xsync/v4"

	"github.com/segmap/segmap/cmap"
)

// BenchmarkThreadCPU runs the load-hit, 75/12.5/12.5 and 50/25/25 mixes
// of `go run ./bench` from one goroutine locked to its thread, on cmap and
// xsync v4, and reports the thread's CPU time per operation (cpu-ns/op)
// beside the wall time. On a machine shared with other work, wall time
// counts the time the thread waits for a core; its CPU time does not, so
// cpu-ns/op is the steadier figure for comparing maps at one P:
//
//	go test ./cmap -run '^$' -bench ThreadCPU -cpu 1 -count 8 | benchstat -col /impl -filter .unit:cpu-ns/op -
//
// Keys: 2N, pre-filled with the first N; load-hit draws from the first N.
func BenchmarkThreadCPU(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 20} {
		ukeys := make([]uint64, 2*n)
		skeys := make([]string, 2*n)
		for i := range ukeys {
			ukeys[i] = uint64(i) * 0x9E3779B97F4A7C15
			skeys[i] = "key-" + strconv.Itoa(i)
		}
		for _, w := range []struct {
			name        string
			load, store int // per mille; the rest are deletes
		}{{"load-hit", 1000, 0}, {"mix-75", 750, 125}, {"mix-50", 500, 250}} {
			keys := 2 * n
			if w.load == 1000 {
				keys = n
			}
			name := "w=" + w.name + "/n=" + strconv.Itoa(n)
			b.Run(name+"/k=uint64/impl=cmap", func(b *testing.B) {
				cpuMix[uint64](b, cmap.New[uint64, uint64](), ukeys[:keys], n, w.load, w.store)
			})
			b.Run(name+"/k=uint64/impl=xsync.v4", func(b *testing.B) {
				cpuMix[uint64](b, xsync.NewMap[uint64, uint64](), ukeys[:keys], n, w.load, w.store)
			})
			b.Run(name+"/k=string/impl=cmap", func(b *testing.B) {
				cpuMix[string](b, cmap.New[string, uint64](), skeys[:keys], n, w.load, w.store)
			})
			b.Run(name+"/k=string/impl=xsync.v4", func(b *testing.B) {
				cpuMix[string](b, xsync.NewMap[string, uint64](), skeys[:keys], n, w.load, w.store)
			})
		}
	}
}

type cpuMap[K comparable] interface {
	Load(K) (uint64, bool)
	Store(K, uint64)
	Delete(K)
}

// cpuMix fills m with keys[:n] and runs the mix over keys (a power of two
// long), from an LCG.
func cpuMix[K comparable](b *testing.B, m cpuMap[K], keys []K, n, load, store int) {
	for i := range n {
		m.Store(keys[i], uint64(i))
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x, mask := uint64(12345), len(keys)-1
	b.ResetTimer()
	t0 := threadCPU()
	for range b.N {
		x = x*6364136223846793005 + 1442695040888963407
		k := keys[int(x>>33)&mask]
		switch r := int(x>>20) % 1000; {
		case r < load:
			m.Load(k)
		case r < load+store:
			m.Store(k, x)
		default:
			m.Delete(k)
		}
	}
	b.ReportMetric(float64(threadCPU()-t0)/float64(b.N), "cpu-ns/op")
}

// threadCPU returns the CPU time used by the calling thread.
func threadCPU() int64 {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		panic(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
