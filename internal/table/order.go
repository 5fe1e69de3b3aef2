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
// table it validates them against. The records in a slice given out are
// never written again: appends write past its end, and everything that
// writes records in place (Compact, Append after a Newest truncation or
// on a single log, Newest's release of the records it drops) runs only on
// a log whose array was never given out. Records marks the log shared;
// the cmap writer guarantees the rest the way it does for tables: the
// first write to a segment after a snapshot gives its log a new array,
// compacted by a rebuild (CopyLog) or copied beside a verbatim clone of
// the table (Unshared).
//
// Retention. Every record that holds an entry keeps its value reachable,
// so records leave the array as soon as the log drops them: Compact
// clears the slots it frees, and Newest clears each record it drops from
// the end, unless the array is shared. Then the dropped records lie
// inside the slice that Records gave the snapshot (Newest only drops
// records below the length the array had when it was given out, since
// nothing is appended to a shared log), so the snapshot keeps them
// reachable anyway, and the map releases its reference to the whole array
// at the segment's next write. So the array of an unshared log holds no
// entry beyond len(recs), and the stale records of a log number at most
// live + LogSlack after every write (NeedsCompact).

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
	// shared is set once Records has given out recs's array: no record in
	// it may be written again (see "Sharing"). While it is clear, every
	// record in recs[len(recs):cap(recs)] is zero (see "Retention").
	shared bool
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
// seq, which must be larger than every seq in the log. The log must not be
// shared (see "Sharing").
func (l *Log[K, V]) Append(seq uint64, p Pos, e *Entry[K, V]) {
	if l.single {
		l.recs, l.head = l.recs[:0], 0
	}
	l.recs = append(l.recs, Record[K, V]{Seq: seq, Pos: p, Entry: e})
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
		// A shared array's record is the snapshot's (see "Retention");
		// an unshared one's is released here.
		if !l.shared {
			l.recs[len(l.recs)-1] = Record[K, V]{}
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

// Compact drops the stale records of a log whose table t is current and
// not shared, in place (see "Sharing"). It returns the number of valid
// records, which must equal the segment's live count.
func (l *Log[K, V]) Compact(t *Table[K, V]) int {
	n := 0
	for i := l.head; i < len(l.recs); i++ {
		if valid(t, &l.recs[i]) {
			l.recs[n] = l.recs[i]
			n++
		}
	}
	clear(l.recs[n:]) // release the stale entries to the GC
	l.recs, l.head = l.recs[:n], 0
	return n
}

// Records returns the records after head, for a snapshot: valid or stale
// in the table frozen with them, never written again (see "Sharing"). The
// log is shared from then on.
func (l *Log[K, V]) Records() []Record[K, V] {
	l.shared = true
	return l.recs[l.head:len(l.recs):len(l.recs)]
}

// Unshared returns l if its array was never given out by Records, else a
// copy of its records after head in a new array, with the capacity of a
// rebuilt log's array: the log of a table cloned verbatim (Clone), whose
// slots, and so whose records' positions and entries, are those of the
// table l belongs to. It reads no entry and hashes nothing.
func (l *Log[K, V]) Unshared(live int) *Log[K, V] {
	if !l.shared {
		return l
	}
	n := len(l.recs) - l.head
	recs := make([]Record[K, V], n, max(n, 2*live+LogSlack))
	copy(recs, l.recs[l.head:])
	return &Log[K, V]{recs: recs, single: l.single}
}

// CopyLog is Copy for a segment with an insertion log: it re-inserts the
// entries of t in log order into a new table of n groups and returns it
// with a new, compacted log (in a new array, so that a snapshot sharing
// the old one is unaffected) and the number of entries. The old table and
// log are only read; if hash panics, both are left as they were.
func (t *Table[K, V]) CopyLog(n int, hash func(K) uint64, l *Log[K, V]) (*Table[K, V], *Log[K, V], int) {
	nt := New[K, V](n)
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
	return nt, nl, live
}

// At returns the entry published in slot p, or nil. Only a writer, or a
// reader of a frozen table, can rely on the answer staying true.
func (t *Table[K, V]) At(p Pos) *Entry[K, V] {
	g, i := p.split()
	return t.groups[g].slots[i].Load()
}
