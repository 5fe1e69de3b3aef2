package cmap

import "github.com/segmap/segmap/internal/table"

// Stats describes the tables of a Map, to judge its hasher and its memory
// use. See [Map.Stats].
type Stats struct {
	Segments   int     // number of segments
	Capacity   int     // slots in all tables together
	Len        int     // live entries
	Tombstones int     // deleted slots not yet reclaimed by a rebuild
	LoadFactor float64 // (Len+Tombstones)/Capacity
	MaxProbe   int     // longest probe, in groups, of any live key (1: found in its home group)
	Resizes    uint64  // table rebuilds since New (grow, clean, shrink, copy-on-write)
	// Prepared counts the rebuilds, among Resizes, that copied into a
	// table made beforehand: when a segment's table fills up, one writer
	// allocates the next one after releasing the segment's lock, so that
	// the rebuild under the lock only copies (docs/design.md, "Prepared
	// tables"); Reserve, too, makes its tables before taking each lock.
	// A growing map's Prepared stays close to its growths of tables of 64
	// groups or more.
	Prepared uint64
	// Layout is "flat" if keys and values are stored in the tables
	// themselves (K and V hold no pointers and are small, and the map
	// keeps no insertion order), else "entries": the tables point to
	// entries on the heap; "arena" if K is a string type, V holds no
	// pointers and is small, and the map keeps no insertion order: the
	// keys' bytes are stored in byte arenas of the tables, the values in
	// the tables. Chosen once, by New.
	Layout string
}

// Stats returns the map's statistics. It locks one segment at a time and
// reads every slot, so it costs O(capacity): a diagnostic, not a hot-path
// call. A MaxProbe far above 1 or a few, or a Len concentrated in few
// segments, means a bad hasher. It changes nothing; if the hasher panics,
// the panic propagates and every segment lock is released.
func (m *Map[K, V]) Stats() Stats {
	st := m.state()
	s := Stats{Segments: len(st.segs), Layout: "entries"}
	if st.flat {
		s.Layout = "flat"
	}
	if st.arena {
		s.Layout = "arena"
	}
	for i := range st.segs {
		st.segmentStats(i, &s)
	}
	if x := st.extra; x != nil && x.maxLen > 0 {
		// As in Len: the segments are read one at a time, so the sum can
		// count an evicted entry and its replacement; the map never holds
		// more than the bound.
		s.Len = min(s.Len, int(x.maxLen))
	}
	if s.Capacity > 0 {
		s.LoadFactor = float64(s.Len+s.Tombstones) / float64(s.Capacity)
	}
	return s
}

// segmentStats adds segment i's figures to s, with the segment locked (and
// unlocked again if the hasher panics).
func (st *state[K, V]) segmentStats(i int, s *Stats) {
	seg := &st.segs[i]
	st.lockSeg(i)
	defer st.unlockSeg(i)
	t := seg.table.Load()
	s.Capacity += t.Capacity()
	s.Len += int(seg.live.Load())
	s.Tombstones += seg.dead()
	s.Resizes += seg.resizes.Load()
	s.Prepared += seg.prep.used.Load()
	t.RangeKV(func(k K, _ V) bool {
		h := st.hasher.Hash(k)
		if pos := t.PosOfKey(h, k); pos != table.NoPos {
			s.MaxProbe = max(s.MaxProbe, t.ProbeLen(pos, h))
		}
		return true
	})
}
