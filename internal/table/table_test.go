package table

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestGroupIsOneCacheLine(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("64-bit layout")
	}
	if got := unsafe.Sizeof(group[uint64, uint64]{}); got != 64 {
		t.Fatalf("group is %d bytes, want 64", got)
	}
}

// TestTableHeaderLayout checks what header.go's padding promises: a
// table header fills a 256-byte size class (two pairs of cache lines of
// its own), and every field a Load reads lies in its first line.
func TestTableHeaderLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("64-bit layout")
	}
	var tb Table[string, uint64]
	if got := unsafe.Sizeof(tb); got != 256 {
		t.Fatalf("Table is %d bytes, want 256", got)
	}
	for name, end := range map[string]uintptr{
		"mask":       unsafe.Offsetof(tb.header) + unsafe.Sizeof(tb.header),
		"aw":         unsafe.Offsetof(tb.aw) + 8,
		"arena":      unsafe.Offsetof(tb.arena) + 8,
		"layout":     unsafe.Offsetof(tb.layout) + 1,
		"groups":     unsafe.Offsetof(tb.groups) + 8,
		"flat.words": unsafe.Offsetof(tb.flat) + unsafe.Offsetof(tb.flat.words) + 8,
	} {
		if end > 64 {
			t.Errorf("Table.%s ends at byte %d, past the first cache line", name, end)
		}
	}
}

// naive control-byte matchers, byte by byte.
func naiveMatch(ctrl uint64, pred func(b uint8) bool) (m uint64) {
	for i := range SlotsPerGroup {
		if pred(byteAt(ctrl, i)) {
			m |= 0x80 << (8 * i)
		}
	}
	return m
}

func randomCtrl(r *rand.Rand) uint64 {
	c := emptyCtrl
	for i := range SlotsPerGroup {
		var b uint8
		switch r.IntN(3) {
		case 0:
			b = ctrlEmpty
		case 1:
			b = ctrlTombstone
		default:
			b = uint8(r.IntN(128))
		}
		c = setByte(c, i, b)
	}
	return c
}

func TestSWAR(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		c := randomCtrl(r)
		tag := uint8(r.IntN(128))
		if got, want := matchEmpty(c), naiveMatch(c, func(b uint8) bool { return b == ctrlEmpty }); got != want {
			t.Fatalf("matchEmpty(%#x) = %#x, want %#x", c, got, want)
		}
		if got, want := matchFree(c), naiveMatch(c, func(b uint8) bool { return b&0x80 != 0 }); got != want {
			t.Fatalf("matchFree(%#x) = %#x, want %#x", c, got, want)
		}
		if got, want := matchFull(c), naiveMatch(c, func(b uint8) bool { return b&0x80 == 0 }); got != want {
			t.Fatalf("matchFull(%#x) = %#x, want %#x", c, got, want)
		}
		// matchTag may report false positives among tags, never misses,
		// and never reports EMPTY, TOMBSTONE or the sentinel.
		got := matchTag(c, tag)
		want := naiveMatch(c, func(b uint8) bool { return b == tag })
		if got&want != want {
			t.Fatalf("matchTag(%#x, %#x) = %#x misses %#x", c, tag, got, want)
		}
		if bad := got &^ naiveMatch(c, func(b uint8) bool { return b&0x80 == 0 }); bad != 0 {
			t.Fatalf("matchTag(%#x, %#x) = %#x reports non-tags %#x", c, tag, got, bad)
		}
	}
}

func TestTableWriterOps(t *testing.T) {
	hash := func(k int) uint64 { return mix(uint64(k)) }
	tb := New[int, int](4)
	live, dead := 0, 0
	for k := range MaxUsed(4) {
		pos, e, free, _ := tb.Locate(hash(k), k)
		if pos != NoPos || e != nil || free == NoPos {
			t.Fatalf("Locate(%d) on absent key = %v, %v, %v", k, pos, e, free)
		}
		tb.Insert(free, hash(k), &Entry[int, int]{k, k})
		live++
	}
	if err := tb.CheckInvariants(hash, live, dead); err != nil {
		t.Fatal(err)
	}
	for k := range 5 {
		pos, e, _, _ := tb.Locate(hash(k), k)
		if e == nil || e.Value != k {
			t.Fatalf("Locate(%d) = %v", k, e)
		}
		if tb.Delete(pos) {
			dead++
		}
		live--
		if tb.Find(hash(k), k) != nil {
			t.Fatalf("deleted key %d found", k)
		}
	}
	if err := tb.CheckInvariants(hash, live, dead); err != nil {
		t.Fatal(err)
	}
	// Re-inserting a deleted key reuses a tombstone on its probe path.
	_, _, free, freeEmpty := tb.Locate(hash(0), 0)
	tb.Insert(free, hash(0), &Entry[int, int]{0, 100})
	live++
	if !freeEmpty {
		dead--
	}
	if err := tb.CheckInvariants(hash, live, dead); err != nil {
		t.Fatal(err)
	}
	nt, n := tb.Copy(8, hash)
	if n != live {
		t.Fatalf("Copy copied %d of %d", n, live)
	}
	if err := nt.CheckInvariants(hash, live, 0); err != nil {
		t.Fatal(err)
	}
	if e := nt.Find(hash(0), 0); e == nil || e.Value != 100 {
		t.Fatal("copy lost key 0")
	}
}

func TestCheckInvariantsCatches(t *testing.T) {
	hash := func(k int) uint64 { return mix(uint64(k)) }
	tb := New[int, int](2)
	_, _, free, _ := tb.Locate(hash(1), 1)
	tb.Insert(free, hash(1), &Entry[int, int]{1, 1})
	if tb.CheckInvariants(hash, 2, 0) == nil {
		t.Fatal("wrong live count not caught")
	}
	g, i := split(free)
	tb.groups[g].slots[i].Store(nil) // tag without an entry
	if tb.CheckInvariants(hash, 1, 0) == nil {
		t.Fatal("tag with a nil slot not caught")
	}
	tb.groups[g].slots[i].Store(&Entry[int, int]{2, 2}) // wrong key for the tag/home
	if tb.CheckInvariants(hash, 1, 0) == nil {
		t.Fatal("misplaced key not caught")
	}
}

func TestGroupsFor(t *testing.T) {
	for n := range 5000 {
		g := GroupsFor(n)
		if MaxUsed(g) < n || (g > 1 && MaxUsed(g/2) >= n) || g&(g-1) != 0 {
			t.Fatalf("GroupsFor(%d) = %d", n, g)
		}
	}
}

// TestDeleteEmptiesWhenGroupHasEmpty: the Swiss-table rule. A delete in a
// group with an EMPTY byte leaves EMPTY; in a full group, a TOMBSTONE, and
// keys beyond a full group stay reachable.
func TestDeleteEmptiesWhenGroupHasEmpty(t *testing.T) {
	same := func(int) uint64 { return 0 } // every key in group 0, then 1, ...
	tb := New[int, int](4)
	for k := range 10 { // fills group 0 (7 slots) and 3 of group 1
		_, _, free, _ := tb.Locate(same(k), k)
		tb.Insert(free, same(k), &Entry[int, int]{k, k})
	}
	pos, _, _, _ := tb.Locate(0, 8) // in group 1, which has EMPTY bytes
	if tb.Delete(pos) {
		t.Fatal("delete in a group with an EMPTY byte left a tombstone")
	}
	pos, _, _, _ = tb.Locate(0, 3) // in group 0, full
	if !tb.Delete(pos) {
		t.Fatal("delete in a full group did not leave a tombstone")
	}
	for _, k := range []int{9, 7, 0} {
		if tb.Find(0, k) == nil {
			t.Fatalf("key %d lost after deletes", k)
		}
	}
	if err := tb.CheckInvariants(same, 8, 1); err != nil {
		t.Fatal(err)
	}
}

// TestLimits: FitGroups answers for every n without overflow, at the edges
// of the largest table; the group size the limits assume is the real one.
func TestLimits(t *testing.T) {
	if GroupBytes != unsafe.Sizeof(group[int, int]{}) {
		t.Fatalf("GroupBytes = %d, a group has %d bytes", GroupBytes, unsafe.Sizeof(group[int, int]{}))
	}
	if n := MaxUsed(MaxGroups); n <= 0 || n/MaxGroups != SlotsPerGroup*maxLoadNum/maxLoadDen {
		t.Fatalf("MaxUsed(MaxGroups) = %d overflows", n)
	}
	if p := Pos(MaxGroups-1)<<3 | 6; p < 0 || int(p)>>3 != MaxGroups-1 {
		t.Fatalf("the last slot's Pos %d overflows", p)
	}
	if MaxMapBytes/GroupBytes/MaxGroups < 1 || MaxMapBytes > math.MaxInt {
		t.Fatalf("MaxMapBytes = %d: below one table of entries, or beyond int", MaxMapBytes)
	}
	for _, tt := range []struct{ n, limit, want int }{
		{0, MaxGroups, 1},
		{MaxUsed(MaxGroups), MaxGroups, MaxGroups},
		{MaxUsed(MaxGroups) + 1, MaxGroups, 0},
		{MaxUsed(MaxGroups), math.MaxInt, MaxGroups},
		{MaxUsed(MaxGroups) + 1, math.MaxInt, 0},
		{math.MaxInt, MaxGroups, 0},
		{math.MaxInt, math.MaxInt, 0},
		{MaxUsed(8), 12, 8},     // limit rounded down to a power of two
		{MaxUsed(8) + 1, 12, 0}, // 16 groups would exceed it
		{1, 0, 1},               // a limit below one table still allows one group
		{MaxUsed(4), 4, 4},
	} {
		g, ok := FitGroups(tt.n, tt.limit)
		if ok != (tt.want != 0) || g != tt.want {
			t.Errorf("FitGroups(%d, %d) = %d, %v; want %d", tt.n, tt.limit, g, ok, tt.want)
		}
	}
	if SegmentLimit(1, GroupBytes) != MaxGroups || SegmentLimit(1<<16, GroupBytes) != min(MaxGroups, MaxMapBytes/GroupBytes>>16) {
		t.Errorf("SegmentLimit: %d for 1 segment, %d for 65536", SegmentLimit(1, GroupBytes), SegmentLimit(1<<16, GroupBytes))
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("GroupsFor(math.MaxInt) did not panic")
			}
		}()
		GroupsFor(math.MaxInt)
	}()
}
