package table

// The insertion log of a segment of a map built with
// cmap.WithInsertionOrder: which entry was published when.
//
// The log is a slice of records (seq, pos, entry), appended by the
// segment's writer each time it publishes an entry (an insert, or an
// overwrite, which publishes a new entry). seq comes from the map's global
// insertion counter, so seqs increase along the log and order records of
// different segments too. A record is valid while slot pos of the current
// table still holds its entry pointer: a delete (nil slot), an overwrite
// (another pointer) or a delete and re-insert in the same slot (a new
// pointer: entries are never reused, and the log keeps the pointers of
// stale records reachable, so their addresses are not recycled either)
// makes it stale, with no work on the log. Every live entry has exactly
// one valid record: the one appended when it was published.
//
//	recs: [ stale | stale | (1,p7,a) | stale | (4,p2,c) | (5,p9,b) ]
//	                 head ^                                  newest ^
//
// head skips the stale prefix (Oldest advances it), Newest drops a stale
// suffix, and Compact squeezes out the stale records in the middle. A
// table rebuild re-inserts the entries in log order (CopyLog), which both
// moves them and compacts the log into a new array.
//
// Sharing. A snapshot keeps a slice of recs (Records) beside the frozen
// table it validates them against. Records given out are never written
// again: the log remembers how far they reach (shared), and writes in
// place only past that point. Append writes at len(recs): at or past
// shared unless Newest has cut the log below it since, and then Append
// first moves the records to a new array (unshare). Compact, which
// writes from the start, compacts a shared log into a new array; a
// rebuild (CopyLog) always makes a new array. Appends into a shared array
// past its shared part are invisible to the snapshots: their slices end
// there (their capacity is their length). So after a snapshot the
// segment's table can be cloned verbatim (cmap's cloneLocked) and its log
// kept as it is: the clone keeps every entry in its slot, so every record
// keeps its meaning, and no record is copied until the log is compacted.
//
// Retention. Every record that holds an entry keeps its value reachable,
// so the log releases the records it drops: Compact clears the slots it
// frees, and Newest clears each record it drops from the end, except
// records below shared, which a snapshot may still read. So the array
// holds entries only in recs[:max(len(recs), shared)], the records
// between the two being ones that Newest dropped from a snapshot's part
// of the log; they go with that part at the next Append or Compact.
// Between them, NeedsCompact keeps the stale records of recs at most
// live + LogSlack after every write.

// Record is one entry of an insertion log: Entry was published in slot Pos
// with insertion number Seq. It is valid in a table while that slot still
// holds Entry.
type Record[K comparable, V any] struct {
	Seq   uint64
	Pos   Pos
	Entry *Entry[K, V]
}

// Log is the insertion log of one segment. Only the segment's writer uses
// it.
type Log[K comparable, V any] struct {
	// recs has increasing Seq. Every record in recs[:head] is stale in the
	// current table; each live entry has exactly one valid record in
	// recs[head:].
	recs []Record[K, V]
	// head <= len(recs).
	head int
	// single is set when Entry[K, V] has size zero: every allocation of it
	// has the same address, so pointers cannot tell entries apart. K then
	// has one value only, the map holds one entry at most, and Append
	// clears the log first so that it never holds more than one record.
	single bool
	// shared: the records in recs[:shared] may be in a slice that
	// Records gave out, and are never written again (see "Sharing"); 0
	// if no slice of this array was given out. Every record in
	// recs[max(len(recs), shared):cap(recs)] is zero (see "Retention").
	shared int
}

// NewLog returns an empty log for entries of type Entry[K, V]; single
// reports that Entry[K, V] has size zero.
func NewLog[K comparable, V any](single bool) *Log[K, V] {
	return &Log[K, V]{single: single}
}

// Len returns the number of records, stale ones included, after head.
func (l *Log[K, V]) Len() int { return len(l.recs) - l.head }

// Held returns the number of records that may hold an entry: those before
// head included, and, if the array is shared, not those that Newest
// dropped (see "Retention").
func (l *Log[K, V]) Held() int { return len(l.recs) }

// Append records the publication of e in slot p with insertion number
// seq, which must be larger than every seq in the log. It never writes a
// record that a snapshot shares (see "Sharing").
func (l *Log[K, V]) Append(seq uint64, p Pos, e *Entry[K, V]) {
	switch {
	case l.single && l.shared > 0:
		l.recs, l.head, l.shared = nil, 0, 0
	case l.single:
		l.recs, l.head = l.recs[:0], 0
	case len(l.recs) < l.shared:
		l.unshare() // the slot to write is a snapshot's
	}
	l.recs = append(l.recs, Record[K, V]{Seq: seq, Pos: p, Entry: e})
}

// unshare moves the records after head to a new array that no snapshot
// shares, with room for as many again.
func (l *Log[K, V]) unshare() {
	n := len(l.recs) - l.head
	recs := make([]Record[K, V], n, 2*n+LogSlack)
	copy(recs, l.recs[l.head:])
	l.recs, l.head, l.shared = recs, 0, 0
}

// valid reports whether r is valid in t.
func valid[K comparable, V any](t *Table[K, V], r *Record[K, V]) bool {
	return t.At(r.Pos) == r.Entry
}

// Oldest returns the valid record with the smallest seq in t, the
// segment's current table, and advances head to it; ok is false if t holds
// no entry. Amortized O(1): each stale record is skipped once.
func (l *Log[K, V]) Oldest(t *Table[K, V]) (r Record[K, V], ok bool) {
	for l.head < len(l.recs) {
		if r := &l.recs[l.head]; valid(t, r) {
			return *r, true
		}
		// The stale record stays in the array (a snapshot may share it)
		// until the next Compact or rebuild releases its entry.
		l.head++
	}
	return r, false
}

// Newest returns the valid record with the largest seq in t, the
// segment's current table, dropping the stale records after it; ok is
// false if t holds no entry. Amortized O(1).
func (l *Log[K, V]) Newest(t *Table[K, V]) (r Record[K, V], ok bool) {
	for len(l.recs) > l.head {
		if r := &l.recs[len(l.recs)-1]; valid(t, r) {
			return *r, true
		}
		// Released, unless a snapshot may read it (see "Retention").
		if n := len(l.recs) - 1; n >= l.shared {
			l.recs[n] = Record[K, V]{}
		}
		l.recs = l.recs[:len(l.recs)-1]
	}
	return r, false
}

// NeedsCompact reports whether the log holds more stale records than
// live, plus LogSlack, given that the segment holds live entries:
// compacting then costs O(1) amortized per record made stale (it reads
// at most 2×live + LogSlack + 1 records and drops at least live +
// LogSlack + 1 of them), whatever the slack.
func (l *Log[K, V]) NeedsCompact(live int) bool {
	return len(l.recs) > 2*live+LogSlack
}

// LogSlack is the number of stale records a log may hold beyond one per
// live entry before it needs compacting. It is small so that a map whose
// segments hold few entries each (a small FIFO cache) keeps few deleted
// values reachable: at most Len + LogSlack × segments (docs/guarantees.md).
const LogSlack = 4

// Compact drops the stale records of a log whose table t is the segment's
// current, writable table: in place, or into a new array if a snapshot
// shares the log's (see "Sharing"). It returns the number of valid records, which must
// equal the segment's live count.
func (l *Log[K, V]) Compact(t *Table[K, V]) int {
	src := l.recs[l.head:]
	dst := l.recs[:0] // in place: dst never passes src
	if l.shared > 0 {
		dst = make([]Record[K, V], 0, len(src))
	}
	for i := range src {
		if valid(t, &src[i]) {
			dst = append(dst, src[i])
		}
	}
	if l.shared == 0 {
		clear(l.recs[len(dst):]) // release the stale entries to the GC
	}
	l.recs, l.head, l.shared = dst, 0, 0
	return len(dst)
}

// Records returns the records after head, for a snapshot: valid or stale
// in the table frozen with them, never written again (see "Sharing").
func (l *Log[K, V]) Records() []Record[K, V] {
	l.shared = max(l.shared, len(l.recs))
	return l.recs[l.head:len(l.recs):len(l.recs)]
}

// CopyLog is Copy for a segment with an insertion log: it re-inserts the
// entries of t in log order into a new table of n groups and returns it
// with a new, compacted log (in a new array, so that a snapshot sharing
// the old one is unaffected) and the number of entries. The old table and
// log are only read; if hash panics, both are left as they were.
//
// It is New and CopyLogInto (for a table prepared beforehand: prepare.go).
func (t *Table[K, V]) CopyLog(n int, hash func(K) uint64, l *Log[K, V]) (*Table[K, V], *Log[K, V], int) {
	nt := New[K, V](n)
	nl, live := t.CopyLogInto(nt, hash, l)
	return nt, nl, live
}

// CopyLogInto is CopyInto for a segment with an insertion log: it
// re-inserts the entries of t in log order into nt, an entry table that
// no reader can see yet, holding nothing and large enough, and returns a
// new, compacted log of nt and the number of entries. If hash panics, nt
// is left partly filled, to be dropped, and t and l are as they were.
func (t *Table[K, V]) CopyLogInto(nt *Table[K, V], hash func(K) uint64, l *Log[K, V]) (*Log[K, V], int) {
	if nt == t || nt.layout != entryLayout {
		panic("table: internal error: CopyLogInto a table that is the source or not an entry table")
	}
	live := 0
	for i := l.head; i < len(l.recs); i++ {
		if valid(t, &l.recs[i]) {
			live++
		}
	}
	// Room to append as many records again before the array grows.
	nl := &Log[K, V]{recs: make([]Record[K, V], 0, 2*live+LogSlack), single: l.single}
	for i := l.head; i < len(l.recs); i++ {
		if r := &l.recs[i]; valid(t, r) {
			p := nt.insertFresh(hash(r.Entry.Key), r.Entry)
			nl.recs = append(nl.recs, Record[K, V]{Seq: r.Seq, Pos: p, Entry: r.Entry})
		}
	}
	return nl, live
}

// PosOf returns the slot of entry e in t, the segment's current table, by
// its valid record in the log (NoPos if it has none): how a writer finds
// an entry again after a rebuild moved it, even one whose key no lookup
// finds (NaN). O(records).
func (l *Log[K, V]) PosOf(t *Table[K, V], e *Entry[K, V]) Pos {
	for i := l.head; i < len(l.recs); i++ {
		if r := &l.recs[i]; r.Entry == e && valid(t, r) {
			return r.Pos
		}
	}
	return NoPos
}
