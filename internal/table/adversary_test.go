package table

import (
	"math/rand/v2"
	"slices"
	"testing"
)

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
