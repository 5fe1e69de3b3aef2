package table

import (
	"fmt"
	"testing"
)

// BenchmarkFindLayouts compares a hit of Find in a flat table and in an
// entry table of n uint64→uint64 pairs, visiting the keys in an order
// unrelated to their insertion (so that entries allocated one after
// another are not read one after another).
func BenchmarkFindLayouts(b *testing.B) {
	hash := func(k uint64) uint64 { return mixInt(42, k) }
	for _, n := range []int{1000, 1000000} {
		ft := NewFlat[uint64, uint64](GroupsFor(2 * n))
		et := New[uint64, uint64](GroupsFor(2 * n))
		for k := range uint64(n) {
			_, _, free, _ := ft.Locate(hash(k), k)
			ft.Insert(free, hash(k), k, k)
			_, _, free, _ = et.Locate(hash(k), k)
			et.Insert(free, hash(k), &Entry[uint64, uint64]{k, k})
		}
		b.Run(fmt.Sprintf("flat/n=%d", n), func(b *testing.B) {
			defer cpuPerOp(b)()
			k := uint64(0)
			for b.Loop() {
				if _, ok := ft.Find(hash(k), k); !ok {
					b.Fatal("miss")
				}
				k = (k + 7919) % uint64(n) // a prime step: every key in turn
			}
		})
		b.Run(fmt.Sprintf("entries/n=%d", n), func(b *testing.B) {
			defer cpuPerOp(b)()
			k := uint64(0)
			for b.Loop() {
				if et.Find(hash(k), k) == nil {
					b.Fatal("miss")
				}
				k = (k + 7919) % uint64(n) // a prime step: every key in turn
			}
		})
	}
}

// BenchmarkFlatCopy is BenchmarkCopy for a flat table.
func BenchmarkFlatCopy(b *testing.B) {
	const n = 60000
	hash := func(k uint64) uint64 { return mixInt(42, k) }
	t := NewFlat[uint64, uint64](GroupsFor(n))
	for k := range uint64(n) {
		_, _, free, _ := t.Locate(hash(k), k)
		t.Insert(free, hash(k), k, k)
	}
	b.ReportAllocs()
	defer cpuPerOp(b)()
	for b.Loop() {
		if _, live := t.Copy(2*t.Groups(), hash); live != n {
			b.Fatal("bad copy")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}

// BenchmarkFlatLocate measures a writer's probe (Locate) in a flat table
// of n uint64→uint64 pairs, for keys it holds (hit) and keys it does not
// (miss, which also looks for the free slot).
func BenchmarkFlatLocate(b *testing.B) {
	hash := func(k uint64) uint64 { return mixInt(42, k) }
	for _, n := range []int{1000, 1000000} {
		t := NewFlat[uint64, uint64](GroupsFor(2 * n))
		for k := range uint64(n) {
			_, _, free, _ := t.Locate(hash(k), k)
			t.Insert(free, hash(k), k, k)
		}
		for _, c := range []struct {
			name string
			base uint64
			want bool
		}{{"hit", 0, true}, {"miss", uint64(n), false}} {
			b.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(b *testing.B) {
				defer cpuPerOp(b)()
				k := uint64(0)
				for b.Loop() {
					if _, found, _, _ := t.Locate(hash(c.base+k), c.base+k); found != c.want {
						b.Fatal("wrong answer")
					}
					k = (k + 7919) % uint64(n) // a prime step: every key in turn
				}
			})
		}
	}
}
