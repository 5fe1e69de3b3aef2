package snapshot_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/segmap/segmap/cmap"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSnapshotViews(t *testing.T) {
	m := cmap.New[string, int](cmap.WithSegments(4))
	want := map[string]int{}
	for i, k := range strings.Fields("a b c d e f g h i j") {
		m.Store(k, i)
		want[k] = i
	}
	s := m.Snapshot()
	m.Clear()
	if s.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(want))
	}
	if got := maps.Collect(s.All()); !maps.Equal(got, want) {
		t.Fatalf("All = %v, want %v", got, want)
	}
	if got := slices.Sorted(s.Keys()); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Fatalf("Keys = %v", got)
	}
	if got := slices.Sorted(s.Values()); !slices.Equal(got, slices.Sorted(maps.Values(want))) {
		t.Fatalf("Values = %v", got)
	}
	for k, v := range want {
		if got, ok := s.Load(k); !ok || got != v {
			t.Fatalf("Load(%q) = %d, %v", k, got, ok)
		}
	}
	if _, ok := s.Load("zz"); ok {
		t.Fatal("Load found an absent key")
	}
	n := 0
	for range s.All() {
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatal("All did not stop early")
	}
}

func TestSnapshotOfEmptyMap(t *testing.T) {
	var m cmap.Map[int, int]
	s := m.Snapshot()
	if s.Len() != 0 {
		t.Fatal("snapshot of an empty map is not empty")
	}
	for range s.All() {
		t.Fatal("All visited a key")
	}
}

// TestSnapshotCostsOneCopyPerWrittenSegment: taking a snapshot copies
// nothing; the first write to each segment afterwards copies that segment
// only.
func TestSnapshotCostsOneCopyPerWrittenSegment(t *testing.T) {
	m := cmap.New[int, int](cmap.WithSegments(8))
	for i := range 10000 {
		m.Store(i, i)
	}
	before := m.Stats().Resizes
	s := m.Snapshot()
	if got := m.Stats().Resizes; got != before {
		t.Fatalf("Snapshot rebuilt %d tables", got-before)
	}
	for i := range 100 {
		m.Store(0, i) // one segment, many writes
	}
	if got := m.Stats().Resizes - before; got != 1 {
		t.Fatalf("100 writes to one segment after a snapshot: %d copies, want 1", got)
	}
	if v, _ := s.Load(0); v != 0 {
		t.Fatalf("snapshot sees %d", v)
	}
}

// TestInOrder: a snapshot lists its entries oldest first, keeps doing so
// whatever the map does afterwards (overwrites, deletes, log compaction,
// rebuilds, PopOldest and Newest, which trim the map's log in place),
// and stops early when asked.
func TestInOrder(t *testing.T) {
	m := cmap.New[int, int](cmap.WithInsertionOrder(), cmap.WithSegments(4))
	for i := range 100 {
		m.Store(i, i)
	}
	for i := range 50 {
		m.Store(i*2, -i) // evens move to the end, in this order
	}
	var want []int
	for i := range 50 {
		want = append(want, i*2+1)
	}
	for i := range 50 {
		want = append(want, i*2)
	}
	s := m.Snapshot()
	keys := func() (ks []int) {
		for k := range s.InOrder() {
			ks = append(ks, k)
		}
		return ks
	}
	if got := keys(); !slices.Equal(got, want) {
		t.Fatalf("InOrder = %v, want %v", got, want)
	}
	before := m.Stats().Resizes
	m.Newest()
	m.PopOldest()
	for i := range 1000 {
		m.Store(i%7, i) // overwrites: stale records, compaction
		m.Delete(i%5 + 200)
		m.Store(i%5+200, i)
	}
	for i := range 5000 {
		m.Store(i+1000, i) // growth
	}
	if m.Stats().Resizes == before {
		t.Fatal("no rebuild after the snapshot")
	}
	if got := keys(); !slices.Equal(got, want) {
		t.Fatalf("InOrder changed after writes: %v", got)
	}
	n := 0
	for range s.InOrder() {
		n++
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Fatal("InOrder did not stop early")
	}
	var empty cmap.Map[int, int]
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "WithInsertionOrder") {
			t.Fatalf("InOrder without the option: recover() = %v", r)
		}
	}()
	empty.Snapshot().InOrder()
}

// TestInOrderEmpty: an ordered empty map has an empty order.
func TestInOrderEmpty(t *testing.T) {
	m := cmap.New[int, int](cmap.WithInsertionOrder())
	for range m.Snapshot().InOrder() {
		t.Fatal("InOrder of an empty map visited an entry")
	}
}
