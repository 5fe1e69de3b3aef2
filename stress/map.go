package stress

import "sync"

// Map is the method set the harness drives: the methods of [sync.Map], typed
// for uint64 keys and values. *cmap.Map[uint64, uint64] satisfies it, and so
// does [SyncMap].
//
// The harness holds an implementation to the contract of sync.Map:
//   - every method except Range is linearizable: it takes effect at one
//     instant between its call and its return;
//   - a method that finds no entry returns the zero value with false, as
//     sync.Map returns nil;
//   - Range visits no key more than once, visits every key that is present
//     for the whole call, reports for each key a value it held at some
//     instant during the call, and stops as soon as f returns false;
//   - all methods are safe for concurrent use, and the map leaves no
//     goroutine running once a scenario is done with it.
type Map interface {
	// Load returns the value stored under key, and whether there is one.
	Load(key uint64) (value uint64, ok bool)
	// Store sets the value for key.
	Store(key, value uint64)
	// LoadOrStore returns the existing value for key if present, with
	// loaded true. Otherwise it stores value and returns it, with loaded
	// false.
	LoadOrStore(key, value uint64) (actual uint64, loaded bool)
	// LoadAndDelete deletes the value for key, returning the previous value
	// if any, and whether there was one.
	LoadAndDelete(key uint64) (value uint64, loaded bool)
	// Delete deletes the value for key.
	Delete(key uint64)
	// Swap stores value for key and returns the previous value if any, and
	// whether there was one.
	Swap(key, value uint64) (previous uint64, loaded bool)
	// CompareAndSwap stores new for key if the value stored is old, and
	// reports whether it did.
	CompareAndSwap(key, old, new uint64) (swapped bool)
	// CompareAndDelete deletes the entry for key if its value is old, and
	// reports whether it did.
	CompareAndDelete(key, old uint64) (deleted bool)
	// Range calls f for each key and value in the map, until f returns
	// false.
	Range(f func(key, value uint64) bool)
}

// SyncMap is a [Map] over a [sync.Map] that holds uint64 keys and values:
// the reference implementation the harness is checked against, and a peer to
// run beside your own map. The zero value is empty and ready to use; a
// SyncMap must not be copied after first use.
type SyncMap struct {
	m sync.Map
}

var _ Map = (*SyncMap)(nil)

// Load returns the value stored under key, and whether there is one.
func (s *SyncMap) Load(key uint64) (uint64, bool) {
	v, ok := s.m.Load(key)
	return unbox(v, ok)
}

// Store sets the value for key.
func (s *SyncMap) Store(key, value uint64) { s.m.Store(key, value) }

// LoadOrStore returns the existing value for key if present, with loaded
// true. Otherwise it stores value and returns it, with loaded false.
func (s *SyncMap) LoadOrStore(key, value uint64) (uint64, bool) {
	v, loaded := s.m.LoadOrStore(key, value)
	return v.(uint64), loaded
}

// LoadAndDelete deletes the value for key, returning the previous value if
// any, and whether there was one.
func (s *SyncMap) LoadAndDelete(key uint64) (uint64, bool) {
	v, ok := s.m.LoadAndDelete(key)
	return unbox(v, ok)
}

// Delete deletes the value for key.
func (s *SyncMap) Delete(key uint64) { s.m.Delete(key) }

// Swap stores value for key and returns the previous value if any, and
// whether there was one.
func (s *SyncMap) Swap(key, value uint64) (uint64, bool) {
	v, ok := s.m.Swap(key, value)
	return unbox(v, ok)
}

// CompareAndSwap stores new for key if the value stored is old, and reports
// whether it did.
func (s *SyncMap) CompareAndSwap(key, old, new uint64) bool {
	return s.m.CompareAndSwap(key, old, new)
}

// CompareAndDelete deletes the entry for key if its value is old, and reports
// whether it did.
func (s *SyncMap) CompareAndDelete(key, old uint64) bool {
	return s.m.CompareAndDelete(key, old)
}

// Range calls f for each key and value in the map, until f returns false,
// with the consistency of [sync.Map.Range].
func (s *SyncMap) Range(f func(key, value uint64) bool) {
	s.m.Range(func(k, v any) bool { return f(k.(uint64), v.(uint64)) })
}

// DeleteFunc deletes every entry for which del returns true, and returns
// how many it deleted: Range, then CompareAndDelete of each selected key
// with the value del saw, so that a key stored again meanwhile with
// another value is not deleted. It is how a sync.Map user writes cmap's
// DeleteFunc, and the reference the harness's delete-func scenario is
// checked against.
func (s *SyncMap) DeleteFunc(del func(key, value uint64) bool) int {
	n := 0
	s.m.Range(func(k, v any) bool {
		if del(k.(uint64), v.(uint64)) && s.m.CompareAndDelete(k, v) {
			n++
		}
		return true
	})
	return n
}

// Clear deletes all the entries, atomically, as [sync.Map.Clear].
func (s *SyncMap) Clear() { s.m.Clear() }

// unbox turns a sync.Map result into a typed one: the zero value when absent.
func unbox(v any, ok bool) (uint64, bool) {
	if !ok {
		return 0, false
	}
	return v.(uint64), true
}
