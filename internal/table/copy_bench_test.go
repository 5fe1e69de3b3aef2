package table

import "testing"

// scattered returns an entry table holding n entries scattered over the
// heap, as a long-lived map's are, and its hash function.
func scattered(n int) (*Table[uint64, uint64], func(uint64) uint64) {
	hash := func(k uint64) uint64 { return mixInt(42, k) }
	t := New[uint64, uint64](GroupsFor(n))
	x := uint64(88172645463325252)
	entries := make([]*Entry[uint64, uint64], n)
	for i := range entries {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		entries[i] = &Entry[uint64, uint64]{x, x}
	}
	// Scatter the entries over the heap as a long-lived map's are.
	for i := range entries {
		j := int(mixInt(1, uint64(i)) % uint64(n))
		entries[i], entries[j] = entries[j], entries[i]
	}
	for _, e := range entries {
		_, _, free, _ := t.Locate(hash(e.Key), e.Key)
		t.Insert(free, hash(e.Key), e)
	}
	return t, hash
}

// BenchmarkCopy measures a rebuild of a table holding n entries into a
// table twice its size: the pause of the Store that grows a segment.
func BenchmarkCopy(b *testing.B) {
	const n = 60000
	t, hash := scattered(n)
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		nt, live := t.Copy(2*t.Groups(), hash)
		if live != n || nt == nil {
			b.Fatal("bad copy")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}

// BenchmarkCloneOrCopy compares the two ways a writer copies a table that
// a snapshot shares, for a segment of a 1e6-entry map with 16 segments
// (n = 62500): a verbatim Clone, and a Copy at the same size (a rebuild,
// which reads and rehashes every key). Their ratio is the figure behind
// copy-on-write's clone (cmap's writableLocked, docs/design.md).
func BenchmarkCloneOrCopy(b *testing.B) {
	const n = 62500
	t, hash := scattered(n)
	b.Run("op=clone", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if t.Clone() == nil {
				b.Fatal("no clone")
			}
		}
	})
	b.Run("op=copy", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, live := t.Copy(t.Groups(), hash); live != n {
				b.Fatal("bad copy")
			}
		}
	})
}
