package striped

import (
	"sync"
	"unsafe"
)

// cacheLineSize is the unit of padding: two 64-byte lines. x86 CPUs fetch
// lines in adjacent pairs (the spatial prefetcher), and Apple's arm64 and
// POWER have 128-byte lines, so 64 bytes is not enough to keep two hot
// words apart. This is the value of crossbeam's CachePadded and of Folly's
// hardware_destructive_interference_size on those CPUs; it costs 120
// bytes per mutex, which is nothing next to one contended cache line.
const cacheLineSize = 128

// mutexPadded is a sync.Mutex alone in its cache lines.
//
// Invariant: unsafe.Sizeof(mutexPadded{}) == cacheLineSize (asserted below),
// so in a []mutexPadded the mutexes sit cacheLineSize bytes apart and no two
// of them share a line, whatever the slice's alignment. A slice of 2^k of
// them is a size-class multiple of 128 bytes, which Go's allocator aligns
// to 128, so neither does the first one share a line with another object.
type mutexPadded struct {
	sync.Mutex
	_ [cacheLineSize - unsafe.Sizeof(sync.Mutex{})%cacheLineSize]byte
}

// rwMutexPadded is a sync.RWMutex alone in its cache lines; see
// [mutexPadded].
type rwMutexPadded struct {
	sync.RWMutex
	_ [cacheLineSize - unsafe.Sizeof(sync.RWMutex{})%cacheLineSize]byte
}

// Compile-time assertions: each padded type is exactly one padding unit.
// A non-zero array length does not convert to [0]struct{} and fails the
// build.
var (
	_ [0]struct{} = [unsafe.Sizeof(mutexPadded{}) - cacheLineSize]struct{}{}
	_ [0]struct{} = [unsafe.Sizeof(rwMutexPadded{}) - cacheLineSize]struct{}{}
	_ [0]struct{} = [unsafe.Sizeof(cellPadded{}) - cacheLineSize]struct{}{}
)

// noCopy makes go vet's copylocks check flag a copy of the struct that
// embeds it (see sync.noCopy). It has no size.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
