package cmap

import (
	"fmt"
	"math"

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
// voids the promise (see [Map.Stats]). Reserve panics if n is negative.
func (m *Map[K, V]) Reserve(n int) {
	if n < 0 {
		panic(fmt.Sprintf("cmap: Reserve: %d is negative", n))
	}
	st := m.state()
	g := table.GroupsFor(segmentShare(n, len(st.segs)))
	if x := st.extra; x != nil && x.policy == RejectNew {
		g = max(g, x.layout) // a fixed map never goes below its layout
	}
	for i := range st.segs {
		s := &st.segs[i]
		st.locks.Lock(i)
		s.minGroups = g
		if t := s.table.Load(); t.Groups() < g {
			s.rebuildLocked(&st.hasher, g)
		}
		st.locks.Unlock(i)
	}
}

// segmentShare returns how many of n keys one of segs segments must hold
// room for: the mean share plus seven standard deviations, plus one.
func segmentShare(n, segs int) int {
	if n == 0 {
		return 0
	}
	p := 1 / float64(segs)
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return min(n, int(math.Ceil(mean+7*sd))+1)
}
