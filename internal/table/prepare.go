package table

// Prepared tables: a rebuild in two steps, so that the first can run
// outside the segment lock (cmap's prepare.go).
//
//	Prepare(n, flat)   allocate an empty table of n groups and write every
//	                   page of it once, so that the memory is faulted in
//	                   and owned by the process
//	t.CopyInto(dst)    copy t's pairs into dst, which must be empty
//
// Copy (and CopyLog) is NewLayout followed by CopyInto (CopyLogInto). A
// rebuild into fresh memory pays for the page faults of the new table, a
// kernel entry per 4 KiB page, one for every 64 (entry) to 32 (flat,
// 128-byte groups) groups, as its copy touches them; one into a prepared
// table pays only for the copy (BenchmarkPreparedCopy).

// pageWords is the number of words in the smallest page of the platforms
// Go runs on (4 KiB).
const pageWords = 4096 / 8

// Prepare returns an empty table of n groups (a power of two >= 1), flat
// if flat is set (FlatFits[K, V]() must then hold), with every page of its
// memory written once, for a CopyInto later.
//
// An entry table is prepared by New itself: it stores the empty ctrl word
// (which is not zero) into every group, one store per 64 bytes. A flat
// table is zeroed memory (a zeroed group is empty), which the runtime
// hands out without writing it when it comes fresh from the operating
// system; Prepare writes one zero per page into it. The stores cannot be
// dropped by the compiler: they are to heap memory that the returned
// table reaches.
func Prepare[K comparable, V any](n int, flat bool) *Table[K, V] {
	t := NewLayout[K, V](n, flat)
	if flat {
		touch(t.flat.words)
	}
	return t
}

// touch writes a zero into every page of w, which is all zeros, to fault
// its pages in: the plain stores are race-free, since no other goroutine
// can see w yet.
func touch(w []uint64) {
	for i := 0; i < len(w); i += pageWords {
		w[i] = 0
	}
}

// CopyInto copies the pairs of t into dst, a table in t's layout that no
// reader can see yet, holding nothing (as NewLayout and Prepare return
// it) and large enough (GroupsFor(live) groups or more), and returns the
// number of pairs copied; dst then holds no tombstones. hash must return
// the hash each key was inserted with; if it panics, dst is left partly
// filled, to be dropped, and t is untouched (it is only read). It panics
// if dst is t or in another layout, or if dst (a flat table) is of
// another shape.
func (t *Table[K, V]) CopyInto(dst *Table[K, V], hash func(K) uint64) int {
	if dst == t || dst.layout != t.layout {
		panic("table: internal error: CopyInto a table that is the source or in another layout")
	}
	switch t.layout {
	case entryLayout:
		return t.copyEntries(dst, hash)
	case flatLayout:
		return t.flat.CopyInto(&dst.flat, hash)
	}
	panic(t.badLayout())
}
