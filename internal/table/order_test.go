package table

import "testing"

// TestLog drives a log beside its table through inserts, overwrites,
// deletes, Oldest/Newest, Compact and CopyLog, checking it after each.
func TestLog(t *testing.T) {
	hash := func(k int) uint64 { return mix(uint64(k)) }
	tb := New[int, int](8)
	l := NewLog[int, int](false)
	live, dead := 0, 0
	seq := uint64(0)
	put := func(k, v int) {
		seq++
		e := &Entry[int, int]{k, v}
		pos, _, free, freeEmpty := tb.Locate(hash(k), k)
		if pos != NoPos {
			tb.Replace(pos, e)
		} else {
			tb.Insert(free, hash(k), e)
			pos = free
			live++
			if !freeEmpty {
				dead--
			}
		}
		l.Append(seq, pos, e)
	}
	del := func(k int) {
		pos, _, _, _ := tb.Locate(hash(k), k)
		if tb.Delete(pos) {
			dead++
		}
		live--
	}
	check := func() {
		t.Helper()
		if err := tb.CheckInvariants(hash, live, dead); err != nil {
			t.Fatal(err)
		}
		if err := l.Check(tb, live); err != nil {
			t.Fatal(err)
		}
	}
	for k := range 10 {
		put(k, k)
	}
	put(0, 100) // 0 moves to newest
	del(1)
	del(9)
	check()
	if r, ok := l.Oldest(tb); !ok || r.Entry.Key != 2 {
		t.Fatalf("Oldest = %v, %v; want key 2", r.Entry, ok)
	}
	if r, ok := l.Newest(tb); !ok || r.Entry.Key != 0 || r.Entry.Value != 100 {
		t.Fatalf("Newest = %v, %v; want key 0", r.Entry, ok)
	}
	check()
	del(0)
	if r, ok := l.Newest(tb); !ok || r.Entry.Key != 8 {
		t.Fatalf("Newest after deleting 0 = %v, %v; want key 8", r.Entry, ok)
	}
	put(1, 1) // re-insert, maybe into its old slot: the old record stays stale
	check()
	want := []int{2, 3, 4, 5, 6, 7, 8, 1}
	if n := l.Compact(tb); n != live || l.Len() != live {
		t.Fatalf("Compact kept %d (Len %d), want %d", n, l.Len(), live)
	}
	check()
	nt, nl, n := tb.CopyLog(16, hash, l)
	if n != live {
		t.Fatalf("CopyLog copied %d of %d", n, live)
	}
	if err := nl.Check(nt, live); err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, r := range nl.Records() {
		got = append(got, r.Entry.Key)
	}
	if len(got) != len(want) {
		t.Fatalf("copied log holds %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("copied log holds %v, want %v", got, want)
		}
	}
	for l.Len() > 0 {
		r, ok := l.Oldest(tb)
		if !ok {
			break
		}
		del(r.Entry.Key)
	}
	if _, ok := l.Oldest(tb); ok || live != 0 {
		t.Fatal("Oldest of an empty table found an entry")
	}
	if _, ok := l.Newest(tb); ok {
		t.Fatal("Newest of an empty table found an entry")
	}
}

// TestLogCheckCatches: Check must see a duplicate valid record and a live
// entry without one.
func TestLogCheckCatches(t *testing.T) {
	hash := func(k int) uint64 { return mix(uint64(k)) }
	tb := New[int, int](2)
	e := &Entry[int, int]{1, 1}
	_, _, free, _ := tb.Locate(hash(1), 1)
	tb.Insert(free, hash(1), e)
	l := NewLog[int, int](false)
	if l.Check(tb, 1) == nil {
		t.Fatal("entry without a record not caught")
	}
	l.Append(1, free, e)
	if err := l.Check(tb, 1); err != nil {
		t.Fatal(err)
	}
	l.Append(2, free, e)
	if l.Check(tb, 1) == nil {
		t.Fatal("two valid records not caught")
	}
	l2 := NewLog[int, int](false)
	l2.Append(5, free, e)
	l2.recs = append(l2.recs, Record[int, int]{Seq: 3, Pos: free})
	if l2.Check(tb, 1) == nil {
		t.Fatal("decreasing seq not caught")
	}
}

// TestLogSharing: Newest releases the records it drops from an unshared
// log, but never writes a record of a slice that Records gave out; and
// Unshared copies a shared log into a new array, positions unchanged, for
// a verbatim clone of its table.
func TestLogSharing(t *testing.T) {
	hash := func(k int) uint64 { return mix(uint64(k)) }
	tb := New[int, int](8)
	l := NewLog[int, int](false)
	for k := range 10 {
		e := &Entry[int, int]{k, k}
		_, _, free, _ := tb.Locate(hash(k), k)
		tb.Insert(free, hash(k), e)
		l.Append(uint64(k+1), free, e)
	}
	del := func(k int) {
		pos, _, _, _ := tb.Locate(hash(k), k)
		tb.Delete(pos)
	}
	del(9)
	if r, ok := l.Newest(tb); !ok || r.Entry.Key != 8 {
		t.Fatalf("Newest = %v, %v", r, ok)
	}
	if r := l.recs[:cap(l.recs)][9]; r.Entry != nil {
		t.Fatalf("unshared log: dropped record of key %d kept", r.Entry.Key)
	}
	if l.Unshared(9) != l {
		t.Fatal("Unshared copied a log never given out")
	}
	shared := l.Records()
	before := append([]Record[int, int](nil), shared...)
	del(8)
	del(7)
	if r, ok := l.Newest(tb); !ok || r.Entry.Key != 6 {
		t.Fatalf("Newest = %v, %v", r, ok)
	}
	for i := range before {
		if shared[i] != before[i] {
			t.Fatalf("record %d of a shared slice changed: %v -> %v", i, before[i], shared[i])
		}
	}
	nt := tb.Clone()
	nl := l.Unshared(7)
	if nl == l || &nl.recs[0] == &l.recs[0] || nl.shared {
		t.Fatal("Unshared kept the shared array")
	}
	if err := nl.Check(nt, 7); err != nil {
		t.Fatal(err)
	}
	if r, ok := nl.Newest(nt); !ok || r.Entry.Key != 6 {
		t.Fatalf("copied log: Newest = %v, %v", r, ok)
	}
}
