package table

import (
	"runtime"
	"syscall"
	"testing"
)

// cpuPerOp locks the benchmark's goroutine to its thread and returns a
// function, to defer, that reports the thread's CPU time per iteration
// (cpu-ns/op). On a machine shared with other work, wall time counts the
// time the thread waits for a core and its CPU time does not, so cpu-ns/op
// is the steadier figure to compare two versions of the code:
//
//	go test ./internal/table -run '^$' -bench 'Find|Flat' -count 8 | benchstat -filter .unit:cpu-ns/op -
func cpuPerOp(b *testing.B) func() {
	runtime.LockOSThread()
	t0 := threadCPU()
	return func() {
		b.ReportMetric(float64(threadCPU()-t0)/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
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

// clock returns the calling thread's CPU time, for a benchmark that times
// a section of each iteration itself (the goroutine must be locked to its
// thread).
func clock() int64 { return threadCPU() }
