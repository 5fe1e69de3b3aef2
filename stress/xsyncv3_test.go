package stress

import "github.com/puzpuzpuz/xsync/v3"

// xsyncV3Map is a Map over xsync v3's MapOf, the API that v4's Map
// replaced and that many programs still use: a peer put through Run in
// this package's tests (TestBroken, as "xsync-v3"), like v4's Map.
type xsyncV3Map struct{ m *xsync.MapOf[uint64, uint64] }

func newXsyncV3Map() Map { return xsyncV3Map{xsync.NewMapOf[uint64, uint64]()} }

func (x xsyncV3Map) Load(k uint64) (uint64, bool) { return x.m.Load(k) }
func (x xsyncV3Map) Store(k, v uint64)            { x.m.Store(k, v) }
func (x xsyncV3Map) Delete(k uint64)              { x.m.Delete(k) }
func (x xsyncV3Map) Clear()                       { x.m.Clear() }

func (x xsyncV3Map) LoadOrStore(k, v uint64) (uint64, bool) { return x.m.LoadOrStore(k, v) }
func (x xsyncV3Map) LoadAndDelete(k uint64) (uint64, bool)  { return x.m.LoadAndDelete(k) }

// Swap is LoadAndStore, which returns the new value, not the zero value,
// when the key was absent.
func (x xsyncV3Map) Swap(k, v uint64) (uint64, bool) {
	if p, loaded := x.m.LoadAndStore(k, v); loaded {
		return p, true
	}
	return 0, false
}

// CompareAndSwap is a Compute, whose function cannot cancel in v3: on a
// mismatch it stores the value it found again (no reader can tell), and on
// an absent key it asks for a delete, which deletes nothing.
func (x xsyncV3Map) CompareAndSwap(k, old, new uint64) (swapped bool) {
	x.m.Compute(k, func(v uint64, loaded bool) (uint64, bool) {
		if !loaded {
			return v, true
		}
		if v != old {
			return v, false
		}
		swapped = true
		return new, false
	})
	return swapped
}

// CompareAndDelete is a Compute, as CompareAndSwap.
func (x xsyncV3Map) CompareAndDelete(k, old uint64) (deleted bool) {
	x.m.Compute(k, func(v uint64, loaded bool) (uint64, bool) {
		if !loaded {
			return v, true
		}
		if v != old {
			return v, false
		}
		deleted = true
		return v, true
	})
	return deleted
}

func (x xsyncV3Map) Range(f func(k, v uint64) bool) { x.m.Range(f) }
