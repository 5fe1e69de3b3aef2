package table

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// flatTable returns a flat table of uint64 pairs holding n keys, and its
// hash function.
func flatTable(n int) (*Table[uint64, uint64], func(uint64) uint64) {
	hash := func(k uint64) uint64 { return mixInt(7, k) }
	t := NewLayout[uint64, uint64](GroupsFor(n), true)
	f := t.Flat()
	for k := range uint64(n) {
		_, _, free, _ := f.Locate(hash(k), k)
		f.Insert(free, hash(k), k, ^k)
	}
	return t, hash
}

// TestPrepareCopyInto checks, for both layouts, that a prepared table is
// an empty table (its invariants hold with no entries) and that CopyInto
// fills it with exactly the source's pairs, as Copy does.
func TestPrepareCopyInto(t *testing.T) {
	for _, flat := range []bool{false, true} {
		t.Run(fmt.Sprintf("flat=%v", flat), func(t *testing.T) {
			const n = 5000
			var src *Table[uint64, uint64]
			var hash func(uint64) uint64
			if flat {
				src, hash = flatTable(n)
			} else {
				src, hash = scattered(n)
			}
			for _, g := range []int{GroupsFor(n), 4 * GroupsFor(n)} {
				dst := src.Prepare(g)
				if dst.Groups() != g || dst.IsFlat() != flat {
					t.Fatalf("Prepare(%d, %v): %d groups, flat %v", g, flat, dst.Groups(), dst.IsFlat())
				}
				if err := dst.CheckInvariants(hash, 0, 0); err != nil {
					t.Fatalf("prepared table: %v", err)
				}
				if live := src.CopyInto(dst, hash); live != n {
					t.Fatalf("CopyInto copied %d pairs, want %d", live, n)
				}
				if err := dst.CheckInvariants(hash, n, 0); err != nil {
					t.Fatalf("after CopyInto: %v", err)
				}
				src.RangeKV(func(k, v uint64) bool {
					if got, ok := dst.Get(hash(k), k); !ok || got != v {
						t.Fatalf("key %d: got %d, %v; want %d", k, got, ok, v)
					}
					return true
				})
			}
		})
	}
}

// TestPrepareCopyIntoArena is TestPrepareCopyInto for an arena table,
// whose CopyInto also allocates the prepared table's first chunk: the
// copy holds every key and value, and its arena holds the live keys'
// bytes and no garbage.
func TestPrepareCopyIntoArena(t *testing.T) {
	const n = 3000
	hash := arenaHash()
	src := NewArena[string, uint64](GroupsFor(n))
	for i := range uint64(n) {
		k := fmt.Sprintf("key-%d-%s", i, strings.Repeat("x", int(i%40)))
		_, _, free, _ := src.Locate(hash(k), k)
		src.Insert(free, hash(k), k, i)
	}
	// Some garbage in the source, which the copy must not carry.
	for i := uint64(0); i < n; i += 3 {
		k := fmt.Sprintf("key-%d-%s", i, strings.Repeat("x", int(i%40)))
		p, found, _, _ := src.Locate(hash(k), k)
		if !found {
			t.Fatalf("key %q not found", k)
		}
		src.Delete(p)
	}
	srcT := wrapArena(src)
	live, garbage := src.ArenaBytes()
	if garbage == 0 {
		t.Fatal("no garbage in the source after deletes")
	}
	for _, g := range []int{GroupsFor(n), 4 * GroupsFor(n)} {
		dst := srcT.Prepare(g)
		if dst.Groups() != g || !dst.IsArena() {
			t.Fatalf("Prepare(%d): %d groups, arena %v", g, dst.Groups(), dst.IsArena())
		}
		if err := dst.CheckInvariants(hash, 0, 0); err != nil {
			t.Fatalf("prepared table: %v", err)
		}
		want := n - (n+2)/3
		if got := srcT.CopyInto(dst, hash); got != want {
			t.Fatalf("CopyInto copied %d pairs, want %d", got, want)
		}
		if err := dst.CheckInvariants(hash, want, 0); err != nil {
			t.Fatalf("after CopyInto: %v", err)
		}
		if l, gb := dst.Arena().ArenaBytes(); l != live || gb != 0 {
			t.Fatalf("copy's arena: %d live bytes, %d garbage; want %d, 0", l, gb, live)
		}
		for i := uint64(0); i < n; i++ {
			k := fmt.Sprintf("key-%d-%s", i, strings.Repeat("x", int(i%40)))
			v, ok := dst.Arena().Find(hash(k), k)
			if ok != (i%3 != 0) || (ok && v != i) {
				t.Fatalf("key %q: got %d, %v", k, v, ok)
			}
		}
		// A second copy into the now full table is refused.
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "CopyInto") {
					t.Fatalf("CopyInto a full table: recovered %v, want a CopyInto panic", r)
				}
			}()
			srcT.CopyInto(dst, hash)
		}()
	}
}

// TestCopyLogInto checks that CopyLogInto re-inserts in log order into a
// prepared table and returns a log valid for it.
func TestCopyLogInto(t *testing.T) {
	hash := func(k int) uint64 { return mixInt(3, uint64(k)) }
	src := New[int, int](GroupsFor(100))
	l := NewLog[int, int](false)
	for k := range 100 {
		e := &Entry[int, int]{k, k}
		_, _, free, _ := src.Locate(hash(k), k)
		src.Insert(free, hash(k), e)
		l.Append(uint64(k+1), free, e)
	}
	dst := src.Prepare(4 * GroupsFor(100))
	nl, live := src.CopyLogInto(dst, hash, l)
	if live != 100 {
		t.Fatalf("CopyLogInto copied %d, want 100", live)
	}
	if err := nl.Check(dst, live); err != nil {
		t.Fatal(err)
	}
	if r, ok := nl.Oldest(dst); !ok || r.Entry.Key != 0 {
		t.Fatalf("oldest record %+v, %v: want key 0", r, ok)
	}
}

// TestCopyIntoRefuses checks that CopyInto panics, naming the problem,
// when given its own source or a table of the other layout.
func TestCopyIntoRefuses(t *testing.T) {
	src, hash := scattered(10)
	for name, dst := range map[string]*Table[uint64, uint64]{
		"self": src,
		"flat": NewLayout[uint64, uint64](16, true).Prepare(16),
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "CopyInto") {
					t.Fatalf("recovered %v, want a CopyInto panic", r)
				}
			}()
			src.CopyInto(dst, hash)
		})
	}
}

// BenchmarkPreparedCopy measures the copy of a rebuild, per entry, into
// fresh memory and into a prepared table, for both layouts: the part of a
// growth that a segment's writers wait for. Before each iteration the
// heap's free memory is given back to the operating system (untimed), so
// that a new table is fresh memory, as it is in a growing map:
//
//	op=copy      Copy: allocate, initialise and copy (today's rebuild)
//	op=prepare   Prepare alone: what moves out of the lock
//	op=copyinto  CopyInto a table prepared beforehand
//
// ns/entry is wall time, cpu-ns/entry the thread's CPU time (user and
// system: page faults are system time), both per entry copied.
func BenchmarkPreparedCopy(b *testing.B) {
	const n = 60000
	for _, flat := range []bool{false, true} {
		var src *Table[uint64, uint64]
		var hash func(uint64) uint64
		if flat {
			src, hash = flatTable(n)
		} else {
			src, hash = scattered(n)
		}
		g := 2 * src.Groups()
		for _, op := range []string{"copy", "prepare", "copyinto"} {
			b.Run(fmt.Sprintf("flat=%v/op=%s", flat, op), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var cpu int64
				for range b.N {
					b.StopTimer()
					debug.FreeOSMemory()
					var dst *Table[uint64, uint64]
					if op == "copyinto" {
						dst = src.Prepare(g)
					}
					b.StartTimer()
					c0 := clock()
					switch op {
					case "copy":
						if _, live := src.Copy(g, hash); live != n {
							b.Fatal("bad copy")
						}
					case "prepare":
						dst = src.Prepare(g)
					case "copyinto":
						if src.CopyInto(dst, hash) != n {
							b.Fatal("bad copy")
						}
					}
					cpu += clock() - c0
					runtime.KeepAlive(dst)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
				b.ReportMetric(float64(cpu)/float64(b.N*n), "cpu-ns/entry")
			})
		}
	}
}
