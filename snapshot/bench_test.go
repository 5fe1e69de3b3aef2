package snapshot_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
)

// BenchmarkSnapshot measures Snapshot() of maps of growing size while two
// writers run: its cost must not grow with n (it is O(segments)).
//
//	go test ./snapshot -run '^$' -bench Snapshot
func BenchmarkSnapshot(b *testing.B) {
	for _, n := range []int{1e3, 1e6} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			m := cmap.New[int, int](cmap.WithCapacity(n))
			for i := range n {
				m.Store(i, i)
			}
			var stop atomic.Bool
			var wg sync.WaitGroup
			for w := range 2 {
				wg.Go(func() {
					for i := w; !stop.Load(); i += 7 {
						m.Store(i%n, i)
						if i%64 == 0 {
							time.Sleep(time.Microsecond)
						}
					}
				})
			}
			for b.Loop() {
				_ = m.Snapshot()
			}
			stop.Store(true)
			wg.Wait()
		})
	}
}

// BenchmarkWriteAfterSnapshot measures the first writes after a snapshot:
// each first write to a segment copies that segment's table.
func BenchmarkWriteAfterSnapshot(b *testing.B) {
	const n = 1_000_000
	m := cmap.New[int, int](cmap.WithCapacity(n))
	for i := range n {
		m.Store(i, i)
	}
	segs := m.Stats().Segments
	b.Run("after=none", func(b *testing.B) {
		for b.Loop() {
			for i := range segs * 4 {
				m.Store(i, i)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*segs*4), "ns/write")
	})
	b.Run("after=snapshot", func(b *testing.B) {
		for b.Loop() {
			_ = m.Snapshot()
			for i := range segs * 4 {
				m.Store(i, i)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*segs*4), "ns/write")
	})
}

// BenchmarkFirstStoreAfterSnapshot measures the first Store into a
// one-segment map of 1e6 entries after a Snapshot, which copies the
// segment's table (and, with insertion order, its log) before writing.
//
//	go test ./snapshot -run '^$' -bench FirstStoreAfterSnapshot
func BenchmarkFirstStoreAfterSnapshot(b *testing.B) {
	const n = 1_000_000
	for _, c := range []struct {
		name string
		opts []cmap.Option
	}{
		{"plain", nil},
		{"ordered", []cmap.Option{cmap.WithInsertionOrder()}},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := cmap.New[int, int](append(c.opts, cmap.WithSegments(1), cmap.WithCapacity(n))...)
			for i := range n {
				m.Store(i, i)
			}
			i := 0
			for b.Loop() {
				_ = m.Snapshot()
				m.Store(i%n, i)
				i++
			}
		})
	}
}

// BenchmarkSnapshotLoad measures Load on a snapshot of 1e3 entries, which
// goes through one type assertion (snapshotimpl.Frozen) before the probe.
//
//	go test ./snapshot -run '^$' -bench SnapshotLoad
func BenchmarkSnapshotLoad(b *testing.B) {
	m := cmap.New[int, int]()
	for i := range 1000 {
		m.Store(i, i)
	}
	s := m.Snapshot()
	i := 0
	for b.Loop() {
		if _, ok := s.Load(i & 1023); !ok && i&1023 < 1000 {
			b.Fatal("missing key")
		}
		i++
	}
}
