package cmap

import (
	"fmt"
	"math"

	"github.com/segmap/segmap/internal/table"
)

// shareGroups returns the number of groups that gives each of segs
// segments room for its share of n entries (see segmentShare), plus an
// eighth of the load bound for tombstones if spare is set, in tables whose
// groups have groupBytes bytes (table.LayoutGroupBytes of the map's
// layout). If that is beyond the largest table a segment of such a map may
// have (see internal/table's SegmentLimit), it panics naming fn, n and the
// limit: such sizes are refused before anything is allocated or changed,
// and whatever it returns, segs tables of that many groups have a length
// and a byte size that make accepts.
func shareGroups(fn string, n, segs int, spare bool, groupBytes int) int {
	limit := table.SegmentLimit(segs, groupBytes)
	share := segmentShare(n, segs)
	need := share
	if spare && share <= table.MaxUsed(limit) { // then need cannot overflow
		need = share + share/7 + 1
	}
	g, ok := table.FitGroups(need, limit)
	if !ok {
		panic(fmt.Sprintf("cmap: %s: %d entries cannot be laid out (each of %d segments would need room for %d; at most %d per segment, in groups of %d bytes)",
			fn, n, segs, need, table.MaxUsed(limit), groupBytes))
	}
	return g
}

// shareGroups is shareGroups for st's segments and layout (st.flat must
// be set).
func (st *state[K, V]) shareGroups(fn string, n int, spare bool) int {
	return shareGroups(fn, n, len(st.segs), spare, table.LayoutGroupBytes[K, V](st.flat || st.arena))
}

// segmentShare returns how many of n keys one of segs segments must hold
// room for: the mean share plus seven standard deviations, plus one, and
// at most n. It is computed in float64 and compared with n before the
// conversion to int, which would overflow for the largest n.
func segmentShare(n, segs int) int {
	if n == 0 {
		return 0
	}
	p := 1 / float64(segs)
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	if f := math.Ceil(mean+7*sd) + 1; f < float64(n) {
		return int(f)
	}
	return n
}
