package striped

import "unsafe"

// Test hooks: the tests are in package striped_test and reach internals
// only through these.

const CacheLineSize = cacheLineSize

// HeldSize is the size of the state of one multi-lock call.
const HeldSize = unsafe.Sizeof(held{})

// Inflated reports whether c has cells.
func (c *Counter) Inflated() bool { return c.cells.Load() != nil }

// Inflate gives c its cells now, as a contended Add would.
func (c *Counter) Inflate() { c.inflate() }

// CellValues returns the value of each cell, nil if c is not inflated.
func (c *Counter) CellValues() []int64 {
	cs := c.cells.Load()
	if cs == nil {
		return nil
	}
	v := make([]int64, len(cs.c))
	for i := range cs.c {
		v[i] = cs.c[i].n.Load()
	}
	return v
}

// Addr returns the address of the mutex of stripe i.
func (s *Stripes) Addr(i int) uintptr { return uintptr(unsafe.Pointer(&s.mu[i])) }

// Addr returns the address of the mutex of stripe i.
func (s *RWStripes) Addr(i int) uintptr { return uintptr(unsafe.Pointer(&s.rw[i])) }
