package cmap_test

import (
	"maps"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// FuzzMap drives random operation sequences against the built-in map as a
// model, checking every table invariant after each step. Each input byte
// pair is one operation: an opcode and a key from a small space (so that
// keys collide, get deleted and come back); tiny tables and a hasher with
// few distinct values force rebuilds, tombstone reuse and long probes.
//
//	go test ./cmap -fuzz FuzzMap -fuzztime 1m
func FuzzMap(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 7, 1, 0, 1}, uint8(0))
	f.Add([]byte{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 8, 1, 8, 2, 8, 3, 0, 9, 11, 0, 12, 0}, uint8(1))
	seq := make([]byte, 0, 400)
	for i := range 200 {
		seq = append(seq, byte(i%3*7), byte(i))
	}
	f.Add(seq, uint8(2))
	f.Add(seq, uint8(8+4+1))
	f.Add(seq, uint8(16+4+2)) // the entry layout
	f.Add([]byte{0, 1, 0, 2, 3, 1, 4, 2, 9, 1, 5, 2, 12, 0, 0, 3, 6, 1}, uint8(16))
	f.Fuzz(func(t *testing.T, ops []byte, mode uint8) {
		opts := []cmap.Option{cmap.WithSegments(1 << (mode % 3))}
		if mode&4 != 0 {
			opts = append(opts, cmap.WithHasher(func(_ uint64, k uint16) uint64 { return uint64(k % 5) }))
		}
		if mode&8 != 0 {
			opts = append(opts, cmap.WithInsertionOrder()) // the same model; CheckInvariants checks the logs
		}
		if mode&16 != 0 {
			// A value holding a pointer: the entry layout.
			fuzzMap(t, ops, opts, "entries", func(n int) ptrVal { return ptrVal{n: n} }, func(v ptrVal) int { return v.n })
		} else {
			// int values: the flat layout, unless ordered (entries).
			layout := map[bool]string{false: "flat", true: "entries"}[mode&8 != 0]
			fuzzMap(t, ops, opts, layout, func(n int) int { return n }, func(v int) int { return v })
		}
	})
}

// ptrVal is a value type that holds a pointer (always nil here), so that
// maps of it use the entry layout.
type ptrVal struct {
	n int
	_ *byte
}

// fuzzMap is FuzzMap's body for values of type V, made from ints by mk and
// read back by num; the map must use the given layout.
func fuzzMap[V comparable](t *testing.T, ops []byte, opts []cmap.Option, layout string, mk func(int) V, num func(V) int) {
	m := cmap.New[uint16, V](opts...)
	if got := m.Stats().Layout; got != layout {
		t.Fatalf("layout %q, want %q", got, layout)
	}
	model := map[uint16]V{}
	var snap map[uint16]V
	var s interface {
		Load(uint16) (V, bool)
		Len() int
	}
	for i := 0; i+1 < len(ops); i += 2 {
		op, k := ops[i]%14, uint16(ops[i+1])
		v := mk(i)
		switch op {
		case 0, 1:
			m.Store(k, v)
			model[k] = v
		case 2:
			act, loaded := m.LoadOrStore(k, v)
			mv, ok := model[k]
			if loaded != ok || (ok && act != mv) || (!ok && act != v) {
				t.Fatalf("step %d: LoadOrStore(%d) = %v, %v; model %v, %v", i, k, act, loaded, mv, ok)
			}
			if !ok {
				model[k] = v
			}
		case 3:
			prev, loaded := m.Swap(k, v)
			mv, ok := model[k]
			if loaded != ok || prev != mv {
				t.Fatalf("step %d: Swap(%d) = %v, %v; model %v, %v", i, k, prev, loaded, mv, ok)
			}
			model[k] = v
		case 4:
			mv, ok := model[k]
			if m.CompareAndSwap(k, mv, v) != ok {
				t.Fatalf("step %d: CompareAndSwap(%d) disagrees with model", i, k)
			}
			if ok {
				model[k] = v
			}
		case 5:
			mv, ok := model[k]
			if m.CompareAndDelete(k, mv) != ok {
				t.Fatalf("step %d: CompareAndDelete(%d) disagrees with model", i, k)
			}
			delete(model, k)
		case 6, 7:
			prev, loaded := m.LoadAndDelete(k)
			mv, ok := model[k]
			if loaded != ok || prev != mv {
				t.Fatalf("step %d: LoadAndDelete(%d) = %v, %v; model %v, %v", i, k, prev, loaded, mv, ok)
			}
			delete(model, k)
		case 8:
			m.Delete(k)
			delete(model, k)
		case 9:
			act, ok := m.Compute(k, func(old V, loaded bool) (V, cmap.ComputeOp) {
				if loaded {
					return mk(num(old) + 1), cmap.UpdateOp
				}
				return mk(0), cmap.CancelOp
			})
			mv, mok := model[k]
			if ok != mok || (ok && act != mk(num(mv)+1)) {
				t.Fatalf("step %d: Compute(%d) = %v, %v; model %v, %v", i, k, act, ok, mv, mok)
			}
			if mok {
				model[k] = mk(num(mv) + 1)
			}
		case 10:
			if _, loaded := m.LoadOrCompute(k, func() V { return v }); !loaded {
				model[k] = v
			}
		case 11:
			m.Clear()
			clear(model)
		case 12:
			s = m.Snapshot()
			snap = maps.Clone(model)
		case 13:
			m.Reserve(int(k))
		}
		got, ok := m.Load(k)
		if mv, mok := model[k]; ok != mok || got != mv {
			t.Fatalf("step %d (op %d): Load(%d) = %v, %v; model %v, %v", i, op, k, got, ok, mv, mok)
		}
		if m.Len() != len(model) {
			t.Fatalf("step %d (op %d): Len = %d, model %d", i, op, m.Len(), len(model))
		}
		if err := m.CheckInvariants(); err != nil {
			t.Fatalf("step %d (op %d, key %d): %v", i, op, k, err)
		}
	}
	if got := contents(m); !maps.Equal(got, model) {
		t.Fatalf("contents %v, model %v", got, model)
	}
	if s != nil {
		if s.Len() != len(snap) {
			t.Fatalf("snapshot Len %d, want %d", s.Len(), len(snap))
		}
		for k, v := range snap {
			if got, ok := s.Load(k); !ok || got != v {
				t.Fatalf("snapshot Load(%d) = %v, %v; want %v", k, got, ok, v)
			}
		}
	}
}
