package cmap

import (
	"fmt"

	"github.com/segmap/segmap/internal/table"
)

// Reserve makes room for n entries in all: afterwards, inserting keys until
// the map holds n entries rebuilds no table, unless deletes in between
// leave tombstones (a later insert may then clean them up by a same-size
// rebuild). It also sets the capacity below which no table shrinks, until
// the next Reserve; Reserve(0) lifts it.
//
// Keys spread over segments by hash, unevenly: each segment reserves its
// share n/S plus seven standard deviations of that share (binomial), so
// with the default hasher the chance that some segment outgrows its
// reservation is below one in a billion. A hasher that spreads keys badly
// voids the promise (see [Map.Stats]).
//
// Reserve panics, changing nothing, if n is negative or if the tables for
// n entries cannot be laid out: if a segment's share is more than its
// largest table holds, 4.9 entries a group for min(2^32, 2^48/B/S) groups
// with S segments of B-byte groups on 64-bit platforms, min(2^24,
// 1.25 GiB/B/S) on 32-bit ones, the quotient rounded down to a power of
// two (B is 64 or 40 for the entry layout, up to 464 for the flat one;
// docs/guarantees.md). A size within the limits that memory cannot back
// fails as make does. Reserve takes one segment at a time: if the hasher
// panics while it rebuilds a segment, that segment is left as it was and
// unlocked, the segments before it keep their new tables and floor, and
// the panic propagates.
func (m *Map[K, V]) Reserve(n int) {
	if n < 0 {
		panic(fmt.Sprintf("cmap: Reserve: %d is negative", n))
	}
	st := m.state()
	g := st.shareGroups("Reserve", n, false)
	if x := st.extra; x != nil && x.policy == RejectNew {
		g = max(g, x.fixedGroups) // a fixed map never goes below its size
	}
	for i := range st.segs {
		st.reserveSegment(i, g)
	}
}

// reserveSegment gives segment i a table of at least g groups and sets its
// floor to g. The new table is made before the lock is taken (prepare.go),
// so that the segment's writers wait only for the copy. If the hasher
// panics during the rebuild, the segment keeps its table and its floor,
// and its lock is released.
func (st *state[K, V]) reserveSegment(i, g int) {
	s := &st.segs[i]
	var nt *table.Table[K, V]
	// The table as a lock-free reader reaches it, through the readers'
	// array: s.table, the segment's pointer to its slot there, is
	// rewritten by Clear under the lock not yet held
	// [TestReserveRacesClear].
	if t := st.slots()[i].table.Load(); t.Groups() < g {
		nt = t.Prepare(g) // reads only t's layout
	}
	st.lockSeg(i)
	defer st.unlockSeg(i)
	if s.table.Load().Groups() < g {
		if nt != nil {
			s.parkLocked(nt) // used if g is still the size (the floor is below it)
		}
		s.rebuildLocked(&st.hasher, g) // clamps to the old floor, which is below g
	}
	s.minGroups = g
}
