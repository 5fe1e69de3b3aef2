package cmap_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// FuzzMap drives random operation sequences against a model (the built-in
// map, plus the insertion order and the bound when the mode has them),
// checking every table invariant after each step. Each input byte pair is
// one operation: an opcode and a key from a small space (so that keys
// collide, get deleted and come back); tiny tables and a hasher with few
// distinct values force rebuilds, tombstone reuse and long probes.
//
// The mode picks the options: bits 0-1 the segments (1, 2 or 4), bit 2 a
// hasher of 5 values, bit 3 WithInsertionOrder; bits 4-5 a bound of
// fuzzBound entries, 1 for EvictOldest (checked against a FIFO model, with
// the OnEvict calls) and 2 for RejectNew (TryStore, and the panics of the
// other inserts); bit 6 insertion order with the order operations
// (PopOldest, Oldest, Newest) among the opcodes, as with EvictOldest.
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
	// The bounded and ordered modes, on a sequence that inserts, rewrites,
	// deletes and pops over a key space larger than the bound.
	mixed := make([]byte, 0, 600)
	for i := range 300 {
		mixed = append(mixed, byte(i*7%17), byte(i*5%11))
	}
	f.Add(mixed, uint8(modeEvict))
	f.Add(mixed, uint8(modeEvict|4|1))
	f.Add(mixed, uint8(modeReject))
	f.Add(mixed, uint8(modeReject|2))
	f.Add(mixed, uint8(modeOrderOps))
	f.Add(mixed, uint8(modeOrderOps|4|2))
	f.Add(seq, uint8(modeEntries|4|2))
	f.Add(mixed, uint8(modeEntries|modeReject))
	f.Fuzz(fuzzMap)
}

// Mode bits of FuzzMap beyond the low four.
const (
	modeEvict    = 1 << 4 // WithMaxLen(fuzzBound, EvictOldest)
	modeReject   = 2 << 4 // WithMaxLen(fuzzBound, RejectNew)
	modeOrderOps = 1 << 6 // WithInsertionOrder, with the order operations
	modeEntries  = 1 << 7 // the entry layout, forced (int values make flat maps)
	fuzzBound    = 5
)

func fuzzMap(t *testing.T, ops []byte, mode uint8) {
	md := newFuzzModel(mode)
	var evicted [][2]int // OnEvict's calls, in order
	opts := []cmap.Option{cmap.WithSegments(1 << (mode % 3))}
	if mode&4 != 0 {
		opts = append(opts, cmap.WithHasher(func(_ uint64, k uint16) uint64 { return uint64(k % 5) }))
	}
	if mode&8 != 0 || mode&modeOrderOps != 0 {
		opts = append(opts, cmap.WithInsertionOrder())
	}
	switch md.policy {
	case cmap.EvictOldest:
		opts = append(opts, cmap.WithMaxLen(fuzzBound, cmap.EvictOldest),
			cmap.WithOnEvict(func(k uint16, v int) { evicted = append(evicted, [2]int{int(k), v}) }))
	case cmap.RejectNew:
		opts = append(opts, cmap.WithMaxLen(fuzzBound, cmap.RejectNew))
	}
	if mode&modeEntries != 0 {
		cmap.ForceEntryLayout(true)
	}
	m := cmap.New[uint16, int](opts...)
	cmap.ForceEntryLayout(false)
	layout := "flat" // int values, unless ordered or forced
	if mode&(8|modeOrderOps|modeEntries) != 0 || md.policy == cmap.EvictOldest {
		layout = "entries"
	}
	if got := m.Stats().Layout; got != layout {
		t.Fatalf("layout %q, want %q", got, layout)
	}
	var snap map[uint16]int
	var s interface {
		Load(uint16) (int, bool)
		Len() int
	}
	nops := byte(14) // op 14 (TryStore) with a bound, ops 15-17 with the order operations
	switch {
	case md.ordered:
		nops = 18
	case md.policy != 0:
		nops = 15
	}
	for i := 0; i+1 < len(ops); i += 2 {
		op, k := ops[i]%nops, uint16(ops[i+1])
		v := i
		step := fmt.Sprintf("step %d (op %d, key %d)", i, op, k)
		switch op {
		case 0, 1:
			if md.full(k) && md.policy == cmap.RejectNew {
				mustPanicFull(t, step+": Store", func() { m.Store(k, v) })
			} else {
				m.Store(k, v)
				md.put(k, v)
			}
		case 2:
			if md.full(k) && md.policy == cmap.RejectNew {
				mustPanicFull(t, step+": LoadOrStore", func() { m.LoadOrStore(k, v) })
				break
			}
			act, loaded := m.LoadOrStore(k, v)
			mv, ok := md.m[k]
			if loaded != ok || (ok && act != mv) || (!ok && act != v) {
				t.Fatalf("%s: LoadOrStore = %d, %v; model %d, %v", step, act, loaded, mv, ok)
			}
			if !ok {
				md.put(k, v)
			}
		case 3:
			if md.full(k) && md.policy == cmap.RejectNew {
				mustPanicFull(t, step+": Swap", func() { m.Swap(k, v) })
				break
			}
			prev, loaded := m.Swap(k, v)
			mv, ok := md.m[k]
			if loaded != ok || prev != mv {
				t.Fatalf("%s: Swap = %d, %v; model %d, %v", step, prev, loaded, mv, ok)
			}
			md.put(k, v)
		case 4:
			mv, ok := md.m[k]
			if m.CompareAndSwap(k, mv, v) != ok {
				t.Fatalf("%s: CompareAndSwap disagrees with the model", step)
			}
			if ok {
				md.put(k, v)
			}
		case 5:
			mv, ok := md.m[k]
			if m.CompareAndDelete(k, mv) != ok {
				t.Fatalf("%s: CompareAndDelete disagrees with the model", step)
			}
			md.del(k)
		case 6, 7:
			prev, loaded := m.LoadAndDelete(k)
			mv, ok := md.m[k]
			if loaded != ok || prev != mv {
				t.Fatalf("%s: LoadAndDelete = %d, %v; model %d, %v", step, prev, loaded, mv, ok)
			}
			md.del(k)
		case 8:
			m.Delete(k)
			md.del(k)
		case 9:
			act, ok := m.Compute(k, func(old int, loaded bool) (int, cmap.ComputeOp) {
				if loaded {
					return old + 1, cmap.UpdateOp
				}
				return 0, cmap.CancelOp
			})
			mv, mok := md.m[k]
			if ok != mok || (ok && act != mv+1) {
				t.Fatalf("%s: Compute = %d, %v; model %d, %v", step, act, ok, mv, mok)
			}
			if mok {
				md.put(k, mv+1)
			}
		case 10:
			if md.full(k) && md.policy == cmap.RejectNew {
				mustPanicFull(t, step+": LoadOrCompute", func() { m.LoadOrCompute(k, func() int { return v }) })
				break
			}
			if _, loaded := m.LoadOrCompute(k, func() int { return v }); !loaded {
				md.put(k, v)
			}
		case 11:
			m.Clear()
			md.clear()
		case 12:
			s = m.Snapshot()
			snap = maps.Clone(md.m)
		case 13:
			// Left out under RejectNew: Reserve can lay a table out beyond
			// the bound's layout, which CheckInvariants rejects, and which
			// of the two should give way is an open question.
			if md.policy != cmap.RejectNew {
				m.Reserve(int(k))
			}
		case 14:
			err := m.TryStore(k, v)
			switch full := md.full(k) && md.policy == cmap.RejectNew; {
			case full && !errors.Is(err, cmap.ErrFull):
				t.Fatalf("%s: TryStore on a full RejectNew map = %v, want ErrFull", step, err)
			case !full && err != nil:
				t.Fatalf("%s: TryStore = %v, want nil (model holds %d of %d)", step, err, len(md.m), fuzzBound)
			case !full:
				md.put(k, v)
			}
		case 15:
			gk, gv, ok := m.PopOldest()
			wk, wv, wok := md.oldest()
			if gk != wk || gv != wv || ok != wok {
				t.Fatalf("%s: PopOldest = %d, %d, %v; model %d, %d, %v", step, gk, gv, ok, wk, wv, wok)
			}
			if ok {
				md.del(gk)
			}
		case 16:
			gk, gv, ok := m.Oldest()
			if wk, wv, wok := md.oldest(); gk != wk || gv != wv || ok != wok {
				t.Fatalf("%s: Oldest = %d, %d, %v; model %d, %d, %v", step, gk, gv, ok, wk, wv, wok)
			}
		case 17:
			gk, gv, ok := m.Newest()
			if wk, wv, wok := md.newest(); gk != wk || gv != wv || ok != wok {
				t.Fatalf("%s: Newest = %d, %d, %v; model %d, %d, %v", step, gk, gv, ok, wk, wv, wok)
			}
		}
		if !slices.Equal(evicted, md.evicted) {
			t.Fatalf("%s: OnEvict calls %v, model's evictions %v", step, evicted, md.evicted)
		}
		got, ok := m.Load(k)
		if mv, mok := md.m[k]; ok != mok || got != mv {
			t.Fatalf("%s: Load = %d, %v; model %d, %v", step, got, ok, mv, mok)
		}
		if m.Len() != len(md.m) {
			t.Fatalf("%s: Len = %d, model %d", step, m.Len(), len(md.m))
		}
		if err := m.CheckInvariants(); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	if got := contents(m); !maps.Equal(got, md.m) {
		t.Fatalf("contents %v, model %v", got, md.m)
	}
	if s != nil {
		if s.Len() != len(snap) {
			t.Fatalf("snapshot Len %d, want %d", s.Len(), len(snap))
		}
		for k, v := range snap {
			if got, ok := s.Load(k); !ok || got != v {
				t.Fatalf("snapshot Load(%d) = %d, %v; want %d", k, got, ok, v)
			}
		}
	}
}
