package cmap

import "errors"

// ErrFull is the error of an insert into a map that holds its maximum
// number of entries under [WithMaxLen] with [RejectNew]: [Map.TryStore]
// returns it, and the other writes panic with an error wrapping it. Test
// for it with [errors.Is].
var ErrFull = errors.New("cmap: map is full")

// TryStore sets the value for key, like [Map.Store], unless that would
// insert a new key into a map bounded with [WithMaxLen] and [RejectNew]
// that holds its maximum number of entries: then it changes nothing and
// returns an error wrapping [ErrFull]. The answer is exact: ErrFull means
// that the map held its maximum, without key, at one instant during the
// call (to make sure, a TryStore that finds the map full checks again with
// every segment lock held). Updating an existing key always succeeds.
//
// On a map bounded with [EvictOldest] it evicts as Store does and returns
// nil; on an unbounded map it is Store and returns nil.
func (m *Map[K, V]) TryStore(key K, value V) error {
	_, _, err := m.swap("TryStore", key, value, false)
	return err
}
