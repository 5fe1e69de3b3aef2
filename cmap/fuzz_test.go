package cmap_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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

// FuzzMapStrings is FuzzMap with string keys (fuzzKey): the arena layout
// where FuzzMap's maps are flat, with keys of lengths 0, 1, 4 and 16 (the
// limits of Load's inline hash), 17, around 0x80 (the limit of Load's
// inline path) and of several KiB, with NUL bytes and invalid UTF-8.
//
//	go test ./cmap -fuzz FuzzMapStrings -fuzztime 1m
func FuzzMapStrings(f *testing.F) {
	seq := make([]byte, 0, 400)
	for i := range 200 {
		seq = append(seq, byte(i%3*7), byte(i))
	}
	mixed := make([]byte, 0, 600)
	for i := range 300 {
		mixed = append(mixed, byte(i*7%17), byte(i*5%11))
	}
	// Stores of many keys, then deletes and stores: garbage, compaction.
	churn := make([]byte, 0, 2000)
	for i := range 1000 {
		churn = append(churn, byte(i%4*3), byte(i*37))
	}
	for _, mode := range []uint8{0, 1, 2, 4 | 2, modeReject, modeEntries | 1} {
		f.Add(seq, mode)
		f.Add(mixed, mode)
		f.Add(churn, mode)
	}
	f.Add(mixed, uint8(modeEvict))
	f.Add(mixed, uint8(modeOrderOps|4|2))
	f.Fuzz(func(t *testing.T, ops []byte, mode uint8) { fuzzMapOf(t, ops, mode, "arena", fuzzKey) })
}

// fuzzKey is the string key of FuzzMapStrings for k < 256: distinct for
// distinct k.
func fuzzKey(k uint16) string {
	b := string([]byte{byte(k)})
	switch k % 8 {
	case 0:
		if k == 0 {
			return ""
		}
		return b
	case 1:
		return "\x00" + b + "\x00"
	case 2:
		return "\xff\xc0" + b
	case 3:
		return strings.Repeat(b, 0x7E+int(k%5)) // 126..130 bytes
	case 4:
		return strings.Repeat(b+"-", 1000+int(k)*8) // several KiB
	case 5:
		return fmt.Sprintf("key-%012d", k) // 16 bytes: Load's inline hash and compare, 8-byte words
	case 6:
		return fmt.Sprintf("k%03d", k) // 4 bytes: the same, 4-byte words
	}
	if k%16 == 15 {
		return fmt.Sprintf("key-%013d", k) // 17 bytes: hashed by maphash
	}
	return fmt.Sprintf("key %d", k)
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
	fuzzMapOf(t, ops, mode, "flat", func(k uint16) uint16 { return k })
}

// fuzzMapOf is fuzzMap for keys of type K: the model's key k is key(k) in
// the map (key must be one-to-one), whose layout, without the options
// that force entries, is layout.
func fuzzMapOf[K comparable](t *testing.T, ops []byte, mode uint8, layout string, key func(uint16) K) {
	md := newFuzzModel(mode)
	var evicted [][2]int        // OnEvict's calls, in order
	unkey := make(map[K]uint16) // key's inverse, on the keys used
	for k := range 256 {
		unkey[key(uint16(k))] = uint16(k)
	}
	opts := []cmap.Option{cmap.WithSegments(1 << (mode % 3))}
	if mode&4 != 0 {
		opts = append(opts, cmap.WithHasher(func(_ uint64, k K) uint64 { return uint64(unkey[k] % 5) }))
	}
	if mode&8 != 0 || mode&modeOrderOps != 0 {
		opts = append(opts, cmap.WithInsertionOrder())
	}
	switch md.policy {
	case cmap.EvictOldest:
		opts = append(opts, cmap.WithMaxLen(fuzzBound, cmap.EvictOldest),
			cmap.WithOnEvict(func(k K, v int) { evicted = append(evicted, [2]int{int(unkey[k]), v}) }))
	case cmap.RejectNew:
		opts = append(opts, cmap.WithMaxLen(fuzzBound, cmap.RejectNew))
	}
	if mode&modeEntries != 0 {
		cmap.ForceEntryLayout(true)
	}
	m := cmap.New[K, int](opts...)
	cmap.ForceEntryLayout(false)
	// int values: layout, unless ordered or forced
	if mode&(8|modeOrderOps|modeEntries) != 0 || md.policy == cmap.EvictOldest {
		layout = "entries"
	}
	if got := m.Stats().Layout; got != layout {
		t.Fatalf("layout %q, want %q", got, layout)
	}
	var snap map[uint16]int
	var s interface {
		Load(K) (int, bool)
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
		kk := key(k)
		v := i
		step := fmt.Sprintf("step %d (op %d, key %d)", i, op, k)
		switch op {
		case 0, 1:
			if md.full(k) && md.policy == cmap.RejectNew {
				mustPanicFull(t, step+": Store", func() { m.Store(kk, v) })
			} else {
				m.Store(kk, v)
				md.put(k, v)
			}
		case 2:
			if md.full(k) && md.policy == cmap.RejectNew {
				mustPanicFull(t, step+": LoadOrStore", func() { m.LoadOrStore(kk, v) })
				break
			}
			act, loaded := m.LoadOrStore(kk, v)
			mv, ok := md.m[k]
			if loaded != ok || (ok && act != mv) || (!ok && act != v) {
				t.Fatalf("%s: LoadOrStore = %d, %v; model %d, %v", step, act, loaded, mv, ok)
			}
			if !ok {
				md.put(k, v)
			}
		case 3:
			if md.full(k) && md.policy == cmap.RejectNew {
				mustPanicFull(t, step+": Swap", func() { m.Swap(kk, v) })
				break
			}
			prev, loaded := m.Swap(kk, v)
			mv, ok := md.m[k]
			if loaded != ok || prev != mv {
				t.Fatalf("%s: Swap = %d, %v; model %d, %v", step, prev, loaded, mv, ok)
			}
			md.put(k, v)
		case 4:
			mv, ok := md.m[k]
			if m.CompareAndSwap(kk, mv, v) != ok {
				t.Fatalf("%s: CompareAndSwap disagrees with the model", step)
			}
			if ok {
				md.put(k, v)
			}
		case 5:
			mv, ok := md.m[k]
			if m.CompareAndDelete(kk, mv) != ok {
				t.Fatalf("%s: CompareAndDelete disagrees with the model", step)
			}
			md.del(k)
		case 6, 7:
			prev, loaded := m.LoadAndDelete(kk)
			mv, ok := md.m[k]
			if loaded != ok || prev != mv {
				t.Fatalf("%s: LoadAndDelete = %d, %v; model %d, %v", step, prev, loaded, mv, ok)
			}
			md.del(k)
		case 8:
			m.Delete(kk)
			md.del(k)
		case 9:
			act, ok := m.Compute(kk, func(old int, loaded bool) (int, cmap.ComputeOp) {
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
				mustPanicFull(t, step+": LoadOrCompute", func() { m.LoadOrCompute(kk, func() int { return v }) })
				break
			}
			if _, loaded := m.LoadOrCompute(kk, func() int { return v }); !loaded {
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
			err := m.TryStore(kk, v)
			switch full := md.full(k) && md.policy == cmap.RejectNew; {
			case full && !errors.Is(err, cmap.ErrFull):
				t.Fatalf("%s: TryStore on a full RejectNew map = %v, want ErrFull", step, err)
			case !full && err != nil:
				t.Fatalf("%s: TryStore = %v, want nil (model holds %d of %d)", step, err, len(md.m), fuzzBound)
			case !full:
				md.put(k, v)
			}
		case 15:
			gkk, gv, ok := m.PopOldest()
			gk := unkey[gkk]
			wk, wv, wok := md.oldest()
			if gk != wk || gv != wv || ok != wok {
				t.Fatalf("%s: PopOldest = %d, %d, %v; model %d, %d, %v", step, gk, gv, ok, wk, wv, wok)
			}
			if ok {
				md.del(gk)
			}
		case 16:
			gkk, gv, ok := m.Oldest()
			gk := unkey[gkk]
			if wk, wv, wok := md.oldest(); gk != wk || gv != wv || ok != wok {
				t.Fatalf("%s: Oldest = %d, %d, %v; model %d, %d, %v", step, gk, gv, ok, wk, wv, wok)
			}
		case 17:
			gkk, gv, ok := m.Newest()
			gk := unkey[gkk]
			if wk, wv, wok := md.newest(); gk != wk || gv != wv || ok != wok {
				t.Fatalf("%s: Newest = %d, %d, %v; model %d, %d, %v", step, gk, gv, ok, wk, wv, wok)
			}
		}
		if !slices.Equal(evicted, md.evicted) {
			t.Fatalf("%s: OnEvict calls %v, model's evictions %v", step, evicted, md.evicted)
		}
		got, ok := m.Load(kk)
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
	got := make(map[uint16]int)
	for k, v := range contents(m) {
		got[unkey[k]] = v
	}
	if !maps.Equal(got, md.m) {
		t.Fatalf("contents %v, model %v", got, md.m)
	}
	if s != nil {
		if s.Len() != len(snap) {
			t.Fatalf("snapshot Len %d, want %d", s.Len(), len(snap))
		}
		for k, v := range snap {
			if got, ok := s.Load(key(k)); !ok || got != v {
				t.Fatalf("snapshot Load(%d) = %d, %v; want %d", k, got, ok, v)
			}
		}
	}
}
