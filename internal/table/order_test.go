package table

import (
	"math/rand/v2"
	"slices"
	"testing"
)

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

// TestLogSharing: Newest releases the records it drops, except those a
// snapshot's slice (Records) covers; no write of the log ever changes such
// a slice: appends past its end stay in the array, and an append below
// its end (after Newest) or a Compact moves the log to a new array.
func TestLogSharing(t *testing.T) {
	hash := func(k int) uint64 { return mix(uint64(k)) }
	tb := New[int, int](8)
	l := NewLog[int, int](false)
	live, seq := 0, uint64(0)
	put := func(k int) {
		e := &Entry[int, int]{k, k}
		_, _, free, _ := tb.Locate(hash(k), k)
		tb.Insert(free, hash(k), e)
		seq++
		l.Append(seq, free, e)
		live++
	}
	del := func(k int) {
		pos, _, _, _ := tb.Locate(hash(k), k)
		tb.Delete(pos)
		live--
	}
	check := func() {
		t.Helper()
		if err := l.Check(tb, live); err != nil {
			t.Fatal(err)
		}
	}
	newest := func(want int) {
		t.Helper()
		if r, ok := l.Newest(tb); !ok || r.Entry.Key != want {
			t.Fatalf("Newest = %v, %v; want key %d", r, ok, want)
		}
	}
	for k := range 10 {
		put(k)
	}
	del(9)
	newest(8)
	if r := l.recs[:cap(l.recs)][9]; r.Entry != nil {
		t.Fatalf("unshared log: dropped record of key %d kept", r.Entry.Key)
	}
	check()

	var slices [][]Record[int, int]
	var copies [][]Record[int, int]
	share := func() {
		r := l.Records()
		slices = append(slices, r)
		copies = append(copies, append([]Record[int, int](nil), r...))
	}
	unchanged := func() {
		t.Helper()
		for i := range slices {
			for j := range slices[i] {
				if slices[i][j] != copies[i][j] {
					t.Fatalf("record %d of shared slice %d changed: %v -> %v", j, i, copies[i][j], slices[i][j])
				}
			}
		}
	}
	share()
	first := &l.recs[0]
	put(10) // past the shared part: same array
	if &l.recs[0] != first {
		t.Fatal("an append past the shared part moved the log")
	}
	unchanged()
	check()
	del(10)
	del(8)
	newest(7) // drops 10 (released) and 8 (the snapshot's: kept)
	if all := l.recs[:cap(l.recs)]; all[8].Entry == nil || all[9].Entry != nil {
		t.Fatalf("after Newest: records 8 (the snapshot's) and 9 (not) hold %v and %v, want non-nil and nil", all[8].Entry, all[9].Entry)
	}
	unchanged()
	check()
	put(11) // below the shared end: moves to a new array
	if &l.recs[0] == first {
		t.Fatal("an append below the shared end wrote into the shared array")
	}
	unchanged()
	check()
	share()
	del(0)
	if n := l.Compact(tb); n != live {
		t.Fatalf("Compact kept %d of %d", n, live)
	}
	unchanged()
	check()
	put(12)
	unchanged()
	check()
}

// TestLogSharingModel drives a log and its table as a segment of an
// ordered map does, in random order: inserts, overwrites, deletes,
// Oldest, Newest, snapshots (Records, with the table frozen: the next
// write clones it verbatim and keeps the log), Compact and rebuilds
// (CopyLog). After every step the log is checked against the table, and
// every snapshot taken so far still gives, from its records validated
// against its frozen table, exactly the entries in the order it had.
func TestLogSharingModel(t *testing.T) {
	hash := func(k int) uint64 { return mix(uint64(k)) }
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 5))
		tb := New[int, int](8)
		l := NewLog[int, int](false)
		frozen := false
		live, dead := 0, 0
		seq := uint64(0)
		var order []*Entry[int, int] // the model: live entries, oldest first
		type snap struct {
			t     *Table[int, int]
			recs  []Record[int, int]
			order []*Entry[int, int]
		}
		var snaps []snap
		writable := func() {
			if frozen {
				tb, frozen = tb.Clone(), false
			}
		}
		for step := range 3000 {
			k := rng.IntN(20)
			op := rng.IntN(10)
			switch {
			case op < 4: // store: insert or overwrite
				writable()
				h := hash(k)
				pos, old, free, freeEmpty := tb.Locate(h, k)
				e := &Entry[int, int]{k, step}
				if pos != NoPos {
					tb.Replace(pos, e)
					order = slices.DeleteFunc(order, func(x *Entry[int, int]) bool { return x == old })
				} else {
					if freeEmpty && live+dead+1 > tb.MaxUsed() {
						nt, nl, n := tb.CopyLog(tb.Groups(), hash, l)
						tb, l, live, dead = nt, nl, n, 0
						_, _, free, freeEmpty = tb.Locate(h, k)
					}
					tb.Insert(free, h, e)
					pos = free
					live++
					if !freeEmpty {
						dead--
					}
				}
				seq++
				l.Append(seq, pos, e)
				order = append(order, e)
				if l.NeedsCompact(live) {
					l.Compact(tb)
				}
			case op < 6: // delete
				pos, old, _, _ := tb.Locate(hash(k), k)
				if pos == NoPos {
					continue
				}
				writable()
				if tb.Delete(pos) {
					dead++
				}
				live--
				order = slices.DeleteFunc(order, func(x *Entry[int, int]) bool { return x == old })
				if l.NeedsCompact(live) {
					l.Compact(tb)
				}
			case op == 6:
				r, ok := l.Newest(tb)
				if ok != (len(order) > 0) || ok && r.Entry != order[len(order)-1] {
					t.Fatalf("seed %d step %d: Newest = %v, %v", seed, step, r.Entry, ok)
				}
			case op == 7:
				r, ok := l.Oldest(tb)
				if ok != (len(order) > 0) || ok && r.Entry != order[0] {
					t.Fatalf("seed %d step %d: Oldest = %v, %v", seed, step, r.Entry, ok)
				}
			case op == 8:
				frozen = true
				snaps = append(snaps, snap{tb, l.Records(), slices.Clone(order)})
			default:
				if rng.IntN(4) == 0 {
					nt, nl, n := tb.CopyLog(tb.Groups(), hash, l)
					tb, l, live, dead, frozen = nt, nl, n, 0, false
				} else if !frozen {
					l.Compact(tb)
				}
			}
			if err := l.Check(tb, live); err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			for i, s := range snaps {
				var got []*Entry[int, int]
				for j := range s.recs {
					if r := &s.recs[j]; s.t.At(r.Pos) == r.Entry {
						got = append(got, r.Entry)
					}
				}
				if !slices.Equal(got, s.order) {
					t.Fatalf("seed %d step %d: snapshot %d reads %v, had %v", seed, step, i, got, s.order)
				}
			}
			if len(snaps) > 8 {
				snaps = snaps[1:]
			}
		}
	}
}
