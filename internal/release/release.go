// Package release stores words for lock-free readers with the ordering
// they need and no more: on amd64, one plain MOV, where atomic.StoreUint64
// is an XCHG, a full fence that drains the store buffer.
//
// # When a release store is enough
//
// A writer that stores into a table holds the lock that makes it the only
// writer of the word (a segment lock, or a group lock on an unsealed
// table), and readers load the word with atomic.LoadUint64. What they need
// from the store is:
//
//   - single-copy atomicity: a reader sees the old word or the new one,
//     never a mix (an aligned 8-byte MOV is atomic on amd64);
//   - order with the writer's earlier stores and loads: a reader that sees
//     the word sees every store the writer made before it (the key's
//     bytes before the slot that refers to them, a slot's words before
//     the ctrl byte that publishes them). amd64's memory model (TSO) keeps
//     stores in program order, and a store is never made visible before an
//     earlier load, so a MOV is a release store.
//
// What a release store does not give, and a sequentially consistent one
// does, is order with the writer's later loads: a later load may be
// satisfied before the store is visible. That matters only to a protocol
// in which two threads each store, then load what the other stored (the
// sealer's sealed flag against a writer's group lock, in docs/design.md);
// those keep their atomic read-modify-writes and sequentially consistent
// stores, and Store is used only for data words under a lock whose release
// is an atomic read-modify-write (sync.Mutex.Unlock, the group lock's
// atomic And or Add), a full fence before anything the writer does next.
//
// The compiler cannot move the writer's own memory operations across the
// call: an assembly function is opaque to it, and the MOV is made only by
// that function, one word at a time (a plain Go store could be merged
// with a neighbour's into one wider, non-atomic store).
//
// With the race detector on, and on other architectures, Store is
// atomic.StoreUint64: the detector must see the store as atomic to know
// that a reader's atomic load of the word orders the plain reads that
// follow it, and on arm64 atomic.StoreUint64 is already a release store
// (STLR).
package release

import (
	"sync/atomic"
	"unsafe"
)

// StoreInt64 stores v into x as Store does, for a count that readers load
// with x.Load and that only the holder of one lock changes.
//
// Soundness of the conversion: atomic.Int64 is a struct of zero-size
// fields (noCopy, align64) and one int64, so its address is the int64's,
// aligned to 8 bytes on every platform; TestInt64Layout fails if that
// stops being so.
func StoreInt64(x *atomic.Int64, v int64) {
	Store((*uint64)(unsafe.Pointer(x)), uint64(v))
}

// StoreUint64 stores v into x as Store does, for a word that readers load
// with x.Load and that only the holder of one lock changes. The conversion
// is sound as StoreInt64's: atomic.Uint64 has atomic.Int64's layout
// (TestInt64Layout checks both).
func StoreUint64(x *atomic.Uint64, v uint64) {
	Store((*uint64)(unsafe.Pointer(x)), v)
}
