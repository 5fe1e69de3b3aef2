package table

// Prepared tables: a rebuild in two steps, so that the first can run
// outside the segment lock (cmap's prepare.go).
//
//	t.Prepare(n)       allocate an empty table of n groups in t's layout
//	                   and write every page of it once, so that the memory
//	                   is faulted in and owned by the process
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

// Prepare returns an empty table of n groups (a power of two >= 1) in t's
// layout, with every page of its slots written once, for a CopyInto later.
// It reads nothing of t but its layout, which never changes, so it may run
// while t's writers write.
//
// An entry table is prepared by New itself: it stores the empty ctrl word
// (which is not zero) into every group, one store per 64 bytes. A flat or
// arena table's slots are zeroed memory (a zeroed group is empty), which
// the runtime hands out without writing it when it comes fresh from the
// operating system; Prepare writes one zero per page into it. The stores
// cannot be dropped by the compiler: they are to heap memory that the
// returned table reaches. (An arena table's key bytes are not prepared:
// their size is known only under the segment lock, and CopyInto allocates
// them, one chunk of the live keys' bytes.)
func (t *Table[K, V]) Prepare(n int) *Table[K, V] {
	nt := t.Empty(n)
	switch nt.layout {
	case flatLayout:
		touch(nt.flat.words)
	case arenaLayout:
		touch(nt.arena.words)
	}
	return nt
}

// Empty returns an empty table of n groups (a power of two >= 1) in t's
// layout. Like Prepare, it reads only t's layout (and a flat table's
// shape). A flat table is born sealed, as Copy's is (see Flat.sealed): its
// maker copies into it with the segment lock held and unseals it when it
// lets go, so no group-lock writer writes it while the maker does.
func (t *Table[K, V]) Empty(n int) *Table[K, V] {
	switch t.layout {
	case entryLayout:
		return New[K, V](n)
	case flatLayout:
		if n < 1 || n&(n-1) != 0 {
			panic("table: group count is not a power of two")
		}
		return wrapFlat(t.flat.empty(n))
	case arenaLayout:
		return NewArenaTable[K, V](n)
	}
	panic(t.badLayout())
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
	case arenaLayout:
		return t.arena.CopyInto(dst.arena, hash)
	}
	panic(t.badLayout())
}
