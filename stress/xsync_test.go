package stress

import (
	"github.com/puzpuzpuz/xsync/v4"
)

// xsyncMap is a Map over xsync v4's Map: a peer put through Run in this
// package's tests (TestBroken, as "xsync-v4"), since its Clear is not
// atomic. It has no Swap, CompareAndSwap or CompareAndDelete of its own:
// they are LoadAndStore and Compute.
type xsyncMap struct{ m *xsync.Map[uint64, uint64] }

func newXsyncMap() Map { return xsyncMap{xsync.NewMap[uint64, uint64]()} }

func (x xsyncMap) Load(k uint64) (uint64, bool) { return x.m.Load(k) }
func (x xsyncMap) Store(k, v uint64)            { x.m.Store(k, v) }
func (x xsyncMap) Delete(k uint64)              { x.m.Delete(k) }
func (x xsyncMap) Clear()                       { x.m.Clear() }

func (x xsyncMap) LoadOrStore(k, v uint64) (uint64, bool) { return x.m.LoadOrStore(k, v) }
func (x xsyncMap) LoadAndDelete(k uint64) (uint64, bool)  { return x.m.LoadAndDelete(k) }

// Swap is LoadAndStore, which returns the new value, not the zero value,
// when the key was absent.
func (x xsyncMap) Swap(k, v uint64) (uint64, bool) {
	if p, loaded := x.m.LoadAndStore(k, v); loaded {
		return p, true
	}
	return 0, false
}

func (x xsyncMap) CompareAndSwap(k, old, new uint64) (swapped bool) {
	x.m.Compute(k, func(v uint64, loaded bool) (uint64, xsync.ComputeOp) {
		if !loaded || v != old {
			return v, xsync.CancelOp
		}
		swapped = true
		return new, xsync.UpdateOp
	})
	return swapped
}

func (x xsyncMap) CompareAndDelete(k, old uint64) (deleted bool) {
	x.m.Compute(k, func(v uint64, loaded bool) (uint64, xsync.ComputeOp) {
		if !loaded || v != old {
			return v, xsync.CancelOp
		}
		deleted = true
		return v, xsync.DeleteOp
	})
	return deleted
}

func (x xsyncMap) Range(f func(k, v uint64) bool) { x.m.Range(f) }

// DeleteFunc is DeleteMatching, never stopping early. DeleteMatching runs
// its function under the bucket's lock, so each deletion is atomic for its
// key, but it may call the function twice for a key if the table is
// resized meanwhile (its documentation says so), which the delete-func
// scenario reports in some runs.
func (x xsyncMap) DeleteFunc(del func(k, v uint64) bool) int {
	return x.m.DeleteMatching(func(k, v uint64) (bool, bool) { return del(k, v), false })
}
