package striped

import (
	"math/bits"
	"runtime"
	"sync/atomic"
	"unsafe"
)

// How a Counter spreads its Adds (after Java's LongAdder, with a Go twist
// for choosing the cell).
//
// A counter starts as one word, base, updated by compare-and-swap. A failed
// CAS means another goroutine updated base at the same moment: contention.
// The first contended Add inflates the counter: it installs a table of
// cells, each alone in its cache lines, and from then on every Add goes to
// a cell with one atomic add. An uncontended counter therefore costs 16
// bytes and one CAS per Add, and the zero value needs no constructor.
//
// A goroutine picks its cell by hashing the address of a variable on its
// own stack. Goroutines that run at the same time have disjoint stacks, so
// they land on cells chosen independently, and a goroutine calling from the
// same place keeps landing on the same cell (until its stack moves), so
// that cell stays in its core's cache. Goroutines that run one after
// another may share a cell, since a new goroutine can get the stack of one
// that exited, but they do not contend. This costs a multiply and a shift,
// and needs no goroutine-local storage and no //go:linkname into the
// runtime (LongAdder keeps a probe per thread, xsync calls the runtime's
// fastrand). Measured on the 2-core development machine with 2 to 8
// goroutines adding in a loop: 5.5-7.5 ns per Add, against 25-27 ns for
// one shared atomic.Int64 and 30 ns for a cell drawn at random on every
// call (math/rand/v2), which keeps moving lines between cores. Two running
// goroutines that hash to the same cell share it as they would share a
// single atomic, no worse; with cellsPerP cells per P, that happens to a
// given pair with probability 1/(cellsPerP*GOMAXPROCS).
//
// The obvious alternative, moving to another cell after a failed CAS as
// LongAdder does, has nowhere to remember the new cell without
// goroutine-local storage: each later Add fails on the shared line first,
// again. Measured, it took 20-44 ns per Add whenever two goroutines
// collided, against 6-10 ns for the plain atomic add on a stack-hashed
// cell.

const (
	// cellsPerP is the number of cells per GOMAXPROCS in an inflated
	// Counter, rounded up to a power of two.
	cellsPerP = 4
	// maxCells bounds the cells of one Counter (128 KiB of them).
	maxCells = 1024
	// fibHash is 2^64 divided by the golden ratio: Knuth's multiplicative
	// hash, whose top bits depend on all the bits of the address.
	fibHash = 0x9E3779B97F4A7C15
)

// cellPadded is one shard of a Counter, alone in its cache lines.
type cellPadded struct {
	n atomic.Int64
	_ [cacheLineSize - unsafe.Sizeof(atomic.Int64{})%cacheLineSize]byte
}

// cells is the table of an inflated Counter. It never changes once
// published, though the cells' values do.
type cells struct {
	c []cellPadded // len(c) is a power of two, 1 <= len(c) <= maxCells
	// shift is 64 - log2(len(c)): a hash >> shift is in [0, len(c)).
	// For len(c) == 1 it is 64, and Go defines x >> 64 as 0.
	shift uint
}

// Counter is a sharded int64 counter for counts that many goroutines
// update at once: statistics, sizes, rates. Under contention its Add is
// faster than one shared [atomic.Int64] (2 to 4 times on 2 cores), because
// goroutines add to different cells, each padded to its own cache lines;
// it pays for that in [Counter.Load], which sums the cells.
//
// The zero value is a counter at 0, ready to use, and costs 16 bytes until
// two goroutines Add at the same moment; it then grows to 4 cells per
// GOMAXPROCS at that time (rounded up to a power of two, at most 1024, 128
// bytes each) and never shrinks.
//
// All methods are safe for concurrent use by multiple goroutines. Every
// Add is counted exactly once: no update is lost. A Counter is a counter,
// not a synchronization primitive: do not use its value to publish other
// data. It must not be copied after first use.
type Counter struct {
	_     noCopy
	base  atomic.Int64          // the whole count until inflated, then the count before
	cells atomic.Pointer[cells] // nil until the first contended Add
}

// NewCounter returns a new counter at 0. It is the same as new(Counter).
func NewCounter() *Counter { return new(Counter) }

// Add adds delta to the counter. It is lock-free and, once the counter is
// inflated, a single atomic add that does not allocate.
func (c *Counter) Add(delta int64) {
	if cs := c.cells.Load(); cs != nil {
		var anchor byte // its address identifies this goroutine's stack
		h := uint64(uintptr(unsafe.Pointer(&anchor))) * fibHash
		cs.c[(h>>cs.shift)&uint64(len(cs.c)-1)].n.Add(delta)
		return
	}
	c.addBase(delta)
}

// addBase is Add before the counter is inflated: a CAS on base, or, if it
// fails because another goroutine won the race, inflation and an add to a
// cell.
//
//go:noinline
func (c *Counter) addBase(delta int64) {
	v := c.base.Load()
	if c.base.CompareAndSwap(v, v+delta) {
		return
	}
	c.inflate()
	c.Add(delta)
}

// Inc adds 1 to the counter: Add(1).
func (c *Counter) Inc() { c.Add(1) }

// Dec subtracts 1 from the counter: Add(-1).
func (c *Counter) Dec() { c.Add(-1) }

// Load returns the sum of the counter's cells, read one after another. It
// is exact when no Add or Reset runs at the same time (once they have
// returned). It is not an atomic snapshot while Adds run: it may count
// some concurrent Adds and miss others, and so return a value that the
// counter never held at any instant. It costs one atomic load per cell.
func (c *Counter) Load() int64 {
	sum := c.base.Load()
	if cs := c.cells.Load(); cs != nil {
		for i := range cs.c {
			sum += cs.c[i].n.Load()
		}
	}
	return sum
}

// Reset sets the counter to 0, cell by cell. It is not atomic with respect
// to concurrent Adds: each of them is either erased by the Reset or kept
// whole, never split, so that afterwards the counter holds the sum of some
// of them. The counter keeps its cells.
func (c *Counter) Reset() {
	c.base.Store(0)
	if cs := c.cells.Load(); cs != nil {
		for i := range cs.c {
			cs.c[i].n.Store(0)
		}
	}
}

// inflate installs the cells of c, if no other goroutine has.
func (c *Counter) inflate() {
	n := min(cellsPerP*runtime.GOMAXPROCS(0), maxCells)
	n = 1 << bits.Len(uint(n-1))
	cs := &cells{c: make([]cellPadded, n), shift: uint(64 - bits.TrailingZeros(uint(n)))}
	// The CAS publishes cs: the zeroed cells and shift, written above, are
	// visible to every goroutine that loads the pointer. Losing to another
	// inflate is fine: its cells are as good, and ours are dropped unused.
	c.cells.CompareAndSwap(nil, cs)
}
