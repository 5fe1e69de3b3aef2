package table

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// arenaModel drives an arena table as the cmap writer does (load bound,
// rebuilds, compaction before a delete that would break the garbage
// bound) and checks it against a built-in map.
type arenaModel[K ~string, V comparable] struct {
	tb         testing.TB
	t          *Arena[K, V]
	live, dead int
	hash       func(K) uint64
	m          map[K]V
	// compactions counts the rebuilds that NeedsCompact asked for.
	compactions int
}

func newArenaModel[K ~string, V comparable](tb testing.TB, hash func(K) uint64) *arenaModel[K, V] {
	return &arenaModel[K, V]{tb: tb, t: NewArena[K, V](1), hash: hash, m: make(map[K]V)}
}

func (f *arenaModel[K, V]) store(k K, v V) {
	h := f.hash(k)
	pos, found, free, freeEmpty := f.t.Locate(h, k)
	if found {
		f.t.Replace(pos, k, v)
	} else {
		if freeEmpty && f.live+f.dead+1 > f.t.MaxUsed() {
			f.rebuild(GroupsFor(2 * (f.live + 1)))
			_, _, free, freeEmpty = f.t.Locate(h, k)
		}
		f.t.Insert(free, h, k, v)
		f.live++
		if !freeEmpty {
			f.dead--
		}
	}
	f.m[k] = v
}

func (f *arenaModel[K, V]) del(k K) {
	pos, found, _, _ := f.t.Locate(f.hash(k), k)
	_, want := f.m[k]
	if found != want {
		f.tb.Fatalf("Locate(%q) found = %v, model has it: %v", k, found, want)
	}
	if !found {
		return
	}
	if f.t.NeedsCompact(pos) {
		f.compactions++
		f.compact() // k keeps its slot: pos stays valid
	}
	if f.t.Delete(pos) {
		f.dead++
	}
	f.live--
	delete(f.m, k)
}

func (f *arenaModel[K, V]) rebuild(n int) {
	nt, live := f.t.Copy(max(n, GroupsFor(f.live)), f.hash)
	if live != f.live {
		f.tb.Fatalf("Copy copied %d of %d", live, f.live)
	}
	if l, g := nt.ArenaBytes(); g != 0 || l != f.t.liveBytes {
		f.tb.Fatalf("Copy: %d live bytes, %d garbage; want %d, 0", l, g, f.t.liveBytes)
	}
	f.t, f.dead = nt, 0
}

// compact replaces the table by its compaction, as cmap does, and checks
// that the old table is untouched and still answers for every key, that
// every key kept its slot and value, and that the new arena holds
// exactly the live records and no garbage.
func (f *arenaModel[K, V]) compact() {
	old := f.t
	oldLive, oldGarbage := old.ArenaBytes()
	nt := old.Compacted()
	if l, g := nt.ArenaBytes(); l != oldLive || g != 0 {
		f.tb.Fatalf("Compacted: %d live bytes, %d garbage; want %d, 0", l, g, oldLive)
	}
	if l, g := old.ArenaBytes(); l != oldLive || g != oldGarbage {
		f.tb.Fatalf("Compacted changed its source's counts: %d, %d; were %d, %d", l, g, oldLive, oldGarbage)
	}
	for k, v := range f.m {
		h := f.hash(k)
		p, found, _, _ := old.Locate(h, k)
		np, nfound, _, _ := nt.Locate(h, k)
		if !found || !nfound || p != np {
			f.tb.Fatalf("Compacted: %q at %d (found %v) in the source, %d (found %v) in the copy", k, p, found, np, nfound)
		}
		if kk, vv := nt.At(np); kk != k || vv != v {
			f.tb.Fatalf("Compacted: slot %d holds %q: %v; want %q: %v", np, kk, vv, k, v)
		}
		if got, ok := old.Find(h, k); !ok || got != v {
			f.tb.Fatalf("source of a compaction: Find(%q) = %v, %v; want %v", k, got, ok, v)
		}
	}
	f.t = nt
}

// lookup checks Find, Locate and the home-group read path for k against
// the model.
func (f *arenaModel[K, V]) lookup(k K) {
	want, in := f.m[k]
	h := f.hash(k)
	got, ok := f.t.Find(h, k)
	if ok != in || (ok && got != want) {
		f.tb.Fatalf("Find(%q) = %v, %v; want %v, %v", k, got, ok, want, in)
	}
	if got, ok := arenaRead(wrapArena(f.t), h, k); ok != in || (ok && got != want) {
		f.tb.Fatalf("home-group read of %q = %v, %v; want %v, %v", k, got, ok, want, in)
	}
	pos, found, _, _ := f.t.Locate(h, k)
	if found != in || (found && func() bool { kk, v := f.t.At(pos); return v != want || kk != k }()) {
		f.tb.Fatalf("Locate(%q) found = %v at %d; model: %v", k, found, pos, in)
	}
	if v, p, ref := f.t.Lookup(h, k); p != pos || (found && (v != want || !f.t.Holds(p, ref))) {
		f.tb.Fatalf("Lookup(%q) = %v at %d (held: %v); Locate: %d", k, v, p, found && f.t.Holds(p, ref), pos)
	}
}

// arenaRead is cmap's Load on an arena table: the home-group steps of
// arena_read.go, then FindAfter (the home group is full) or Find.
func arenaRead[K ~string, V any](t *Table[K, V], h uint64, key K) (value V, ok bool) {
	if s := string(key); len(s) < 0x80 {
		g := t.ArenaHome(h)
		for m := g.Matches(); m != 0; m &= m - 1 {
			if r := g.Ref(g.Slot(m)); g.Check(r, h) && g.Is(g.Chunk(r), r, s) {
				value, ok = g.Value(g.Slot(m)), true
				break
			}
		}
		if g.Settled(h, ok) {
			return value, ok
		}
		if !ok && !g.Moved() {
			return t.Arena().FindAfter(h, key)
		}
	}
	return t.Arena().Find(h, key)
}

// check verifies the invariants and that the table holds the model.
func (f *arenaModel[K, V]) check() {
	if err := f.t.CheckInvariants(f.hash, f.live, f.dead); err != nil {
		f.tb.Fatal(err)
	}
	if f.live != len(f.m) {
		f.tb.Fatalf("table holds %d keys, model %d", f.live, len(f.m))
	}
	n := 0
	f.t.Range(func(k K, v V) bool {
		n++
		if w, ok := f.m[k]; !ok || w != v {
			f.tb.Fatalf("Range yields %q: %v; model has %v, %v", k, v, w, ok)
		}
		return true
	})
	if n != len(f.m) {
		f.tb.Fatalf("Range yields %d keys, model has %d", n, len(f.m))
	}
}

// run applies the operations encoded in ops, two bytes each, checking the
// invariants after every step.
func (f *arenaModel[K, V]) run(ops []byte, val func(n uint64) V) {
	for i := 0; i+1 < len(ops); i += 2 {
		k := K(arenaKey(ops[i+1]))
		switch ops[i] % 8 {
		case 0, 1, 2:
			f.store(k, val(uint64(i)))
		case 3, 4:
			f.del(k)
		case 5:
			f.lookup(k)
		case 6:
			f.rebuild(GroupsFor(f.live) << (ops[i+1] % 3))
		case 7:
			if ops[i+1]&1 == 0 {
				f.t = f.t.Clone()
			} else {
				f.compact()
			}
		}
		f.lookup(K(arenaKey(ops[i+1] + 1)))
		f.check()
	}
	for k := range f.m {
		f.lookup(k)
	}
}

// arenaKey returns the key that b names: the empty string, one byte
// (NUL included), keys with NUL bytes and invalid UTF-8, keys around the
// 0x80-byte limit of the one-byte length (and of Load's inline path),
// keys of several KiB, and keys larger than a chunk (a chunk of their
// own); distinct for distinct b.
func arenaKey(b byte) string {
	switch b % 8 {
	case 0:
		if b < 8 {
			return ""
		}
		return string([]byte{b})
	case 1:
		return string([]byte{b})
	case 2:
		return "\x00" + string([]byte{b}) + "\x00\x00"
	case 3:
		return "\xff\xfe\xc0" + string([]byte{b}) + "\x80"
	case 4:
		return strings.Repeat(string([]byte{b}), 0x7E+int(b%5)) // 126..130 bytes
	case 5:
		if b%16 == 5 {
			return strings.Repeat("k", arenaChunkBytes+int(b)) // a chunk of its own
		}
		return strings.Repeat(fmt.Sprint(b), 1000+int(b)*10) // several KiB
	}
	return fmt.Sprintf("key-%d", b)
}

// runArenaShapes runs ops on every value shape under test.
func runArenaShapes(t *testing.T, ops []byte) {
	for name, h := range hashers[string]() {
		t.Run("string→uint64/"+name, func(t *testing.T) {
			newArenaModel[string, uint64](t, h).run(ops, func(n uint64) uint64 { return n })
		})
		t.Run("string→[3]uint64/"+name, func(t *testing.T) { // a spare table
			newArenaModel[string, [3]uint64](t, h).run(ops, func(n uint64) [3]uint64 { return [3]uint64{n, ^n, n * 3} })
		})
	}
	type name string
	for hn, h := range hashers[name]() {
		t.Run("name→struct{}/"+hn, func(t *testing.T) {
			newArenaModel[name, struct{}](t, h).run(ops, func(uint64) struct{} { return struct{}{} })
		})
	}
}

// FuzzArena checks arena tables against a built-in map, with
// CheckInvariants (and so the garbage bound) after every operation, for
// keys of lengths 0, 1, around 0x80 and up to more than a chunk, with NUL
// bytes and invalid UTF-8.
func FuzzArena(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{16, 400, 1200} {
		ops := make([]byte, n)
		for i := range ops {
			ops[i] = byte(r.Uint32())
		}
		f.Add(ops)
		// Stores, then deletes of many keys: growth, garbage, compaction.
		churn := make([]byte, n)
		for i := 0; i+1 < n; i += 2 {
			churn[i], churn[i+1] = byte(r.IntN(3)), byte(r.IntN(256))
			if i > n/2 {
				churn[i] = 3 + byte(r.IntN(2))
			}
		}
		f.Add(churn)
	}
	f.Fuzz(runArenaShapes)
}

// TestArenaCompacts: deleting and re-inserting keys leaves garbage that a
// compaction reclaims before it exceeds max(live bytes, 4 KiB), with few
// compactions (each one at least doubles the garbage the next needs).
func TestArenaCompacts(t *testing.T) {
	f := newArenaModel[string, uint64](t, arenaHash())
	for i := range 200 {
		f.store(fmt.Sprintf("%040d", i), uint64(i)) // 41-byte records: 8200 live bytes
	}
	maxGarbage := 0
	for round := range 50 {
		for i := range 100 {
			k := fmt.Sprintf("%040d", i)
			f.del(k)
			f.store(k, uint64(round))
			_, g := f.t.ArenaBytes()
			maxGarbage = max(maxGarbage, g)
		}
		f.check()
	}
	live, _ := f.t.ArenaBytes()
	if live != 200*41 || maxGarbage > live+41 || f.compactions == 0 {
		t.Fatalf("%d live bytes, garbage peaked at %d, %d compactions", live, maxGarbage, f.compactions)
	}
	if f.compactions > 50*100*41/live+1 {
		t.Fatalf("%d compactions for %d bytes of garbage: more than one per %d bytes", f.compactions, 50*100*41, live)
	}
}

// TestArenaCheckInvariantsCatches: CheckInvariants notices a wrong live
// byte count and garbage over the bound.
func TestArenaCheckInvariantsCatches(t *testing.T) {
	hash := arenaHash()
	f := newArenaModel[string, uint64](t, hash)
	for i := range 10 {
		f.store(fmt.Sprint(i), uint64(i))
	}
	f.t.liveBytes++
	if err := f.t.CheckInvariants(hash, f.live, f.dead); err == nil || !strings.Contains(err.Error(), "liveBytes") {
		t.Errorf("wrong liveBytes: CheckInvariants = %v", err)
	}
	f.t.liveBytes--
	f.t.garbage = arenaMinGarbage + 1
	if err := f.t.CheckInvariants(hash, f.live, f.dead); err == nil || !strings.Contains(err.Error(), "garbage") {
		t.Errorf("garbage over the bound: CheckInvariants = %v", err)
	}
}

// TestArenaKeysOutliveTable: keys handed out by Range and At are strings
// over the arena; they stay valid and unchanged after the table is
// dropped and collected, and after the same key is deleted and written
// again.
func TestArenaKeysOutliveTable(t *testing.T) {
	hash := arenaHash()
	f := newArenaModel[string, uint64](t, hash)
	want := map[string]bool{}
	for i := range 3000 {
		k := fmt.Sprintf("key %d \x00 %s", i, strings.Repeat("x", i%50))
		f.store(k, uint64(i))
		want[k] = true
	}
	var got []string
	f.t.Range(func(k string, _ uint64) bool {
		got = append(got, k)
		return true
	})
	// Delete every key (compacting as the garbage grows) and write others.
	for k := range want {
		f.del(k)
	}
	for i := range 3000 {
		f.store(fmt.Sprintf("other %d", i), 0)
	}
	f.t = nil
	for range 3 {
		runtime.GC()
	}
	if len(got) != len(want) {
		t.Fatalf("Range gave %d keys, want %d", len(got), len(want))
	}
	for _, k := range got {
		if !want[k] {
			t.Fatalf("key %q changed after its table was dropped", k)
		}
		delete(want, k)
	}
}

// TestArenaAllocs: updating a present key allocates nothing; inserting
// new keys allocates only when a chunk fills: at most 0.01 allocations
// per key, amortised, in a table that need not grow.
func TestArenaAllocs(t *testing.T) {
	hash := arenaHash()
	const n = 20000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%012d", i)
	}
	for _, spare := range []bool{false, true} {
		t.Run(fmt.Sprintf("spare=%v", spare), func(t *testing.T) {
			tb := NewArena[string, [3]uint64](GroupsFor(2 * n))
			if !spare {
				tb2 := NewArena[string, uint64](GroupsFor(2 * n))
				i := 0
				a := testing.AllocsPerRun(n-1, func() {
					k := keys[i]
					h := hash(k)
					_, _, free, _ := tb2.Locate(h, k)
					tb2.Insert(free, h, k, 1)
					i++
				})
				if a > 0.01 {
					t.Errorf("insert: %v allocations per key, want <= 0.01", a)
				}
				a = testing.AllocsPerRun(1000, func() {
					k := keys[i%n/2]
					h := hash(k)
					pos, _, _, _ := tb2.Locate(h, k)
					tb2.Replace(pos, k, 2)
					i++
				})
				if a != 0 {
					t.Errorf("update: %v allocations, want 0", a)
				}
				return
			}
			for _, k := range keys[:100] {
				h := hash(k)
				_, _, free, _ := tb.Locate(h, k)
				tb.Insert(free, h, k, [3]uint64{})
			}
			i := 0
			a := testing.AllocsPerRun(1000, func() {
				k := keys[i%100]
				h := hash(k)
				pos, _, _, _ := tb.Locate(h, k)
				tb.Replace(pos, k, [3]uint64{uint64(i)})
				i++
			})
			if a != 0 {
				t.Errorf("update (spare slot): %v allocations, want 0", a)
			}
		})
	}
}

// arenaTornKey returns the string key of number k for the concurrent
// tests: lengths vary, some over 0x80 bytes (Find's path, not the home
// group's).
func arenaTornKey(k uint64) string {
	return fmt.Sprintf("%d:%s", k, strings.Repeat("\x00z", int(k*13%90)))
}

// TestArenaConcurrentReads: readers look keys up (through the home-group
// path and Find) while one writer overwrites (through the spare slot),
// deletes, re-inserts, clones and rebuilds (compacting the arena). Every
// value read must be consistent (no torn read, no value of another key),
// and keys only ever overwritten must always be found. Run it with -race:
// the arena's bytes are read plainly.
func TestArenaConcurrentReads(t *testing.T) {
	const stable, churn = 6, 8
	hashOf := arenaHash()
	hash := func(k string) uint64 { return hashOf(k) & 0xFFFF_0000_0000_0003 } // 4 homes, 1 tag: collisions
	keys := make([]string, stable+churn+1)
	for k := range keys {
		keys[k] = arenaTornKey(uint64(k))
	}
	f := newArenaModel[string, tornVal](t, hash)
	for k := uint64(1); k <= stable; k++ {
		f.store(keys[k], makeTorn(k, 0))
	}
	var cur atomic.Pointer[Table[string, tornVal]]
	cur.Store(wrapArena(f.t))
	var done atomic.Bool
	var ran atomic.Int64
	readers := max(2, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !done.Load(); n++ {
				tb := cur.Load()
				for k := uint64(1); k <= stable+churn; k++ {
					v, ok := arenaRead(tb, hash(keys[k]), keys[k])
					if ok && !v.consistent(k) {
						t.Errorf("torn read of key %d: %#x", k, v)
						done.Store(true)
					}
					if !ok && k <= stable {
						t.Errorf("key %d, only ever overwritten, not found", k)
						done.Store(true)
					}
				}
				if n == 0 {
					ran.Add(1)
				}
			}
		}()
	}
	rounds := uint64(20000)
	if testing.Short() {
		rounds = 2000
	}
	for r := uint64(1); (r <= rounds || ran.Load() < int64(readers)) && !done.Load(); r++ {
		if r > rounds {
			runtime.Gosched()
		}
		for k := uint64(1); k <= stable; k++ {
			f.store(keys[k], makeTorn(k, r))
		}
		for k := uint64(stable + 1); k <= stable+churn; k++ {
			if _, in := f.m[keys[k]]; in && (k+r)%3 != 0 {
				f.del(keys[k])
			} else {
				f.store(keys[k], makeTorn(k, r))
			}
		}
		switch r % 200 {
		case 0:
			f.rebuild(f.t.Groups())
		case 100:
			f.t = f.t.Clone() // the old table is given up, as cmap does
		}
		cur.Store(wrapArena(f.t))
	}
	done.Store(true)
	wg.Wait()
	f.check()
	if f.compactions == 0 && !t.Failed() {
		t.Error("no compaction ran: the test does not cover rebuilds of the arena under readers")
	}
	if n := ran.Load(); n != int64(readers) && !t.Failed() {
		t.Fatalf("%d of %d readers completed a pass before the writer stopped", n, readers)
	}
}

// arenaResolve finishes a reader's Find of key in group 0, begun with the
// version and ctrl words ver and ctrl loaded earlier.
func arenaResolve(tb *Arena[string, tornVal], key string, ver, ctrl uint64) (tornVal, bool) {
	v, p, _ := tb.probe(0, key, &[2]uint64{ver, ctrl}, 0)
	return v, p != NoPos
}

// TestArenaHitChecksVersion: a reader that loaded a group's ctrl word,
// then read a slot that was freed and is being refilled by another key
// (ref and value written, ctrl not yet), must not return the other key's
// value, nor the unpublished one of its own key.
func TestArenaHitChecksVersion(t *testing.T) {
	zero := func(string) uint64 { return 0 } // group 0, tag 0, check 0
	f := newArenaModel[string, tornVal](t, zero)
	f.store("a", makeTorn(1, 0))
	grp := f.t.group(0)
	ver, ctrl := atomic.LoadUint64(&grp[1]), atomic.LoadUint64(&grp[0]) // the reader starts
	f.del("a")
	var v tornVal
	var ok bool
	arenaPublishHook = func() { v, ok = arenaResolve(f.t, "a", ver, ctrl) }
	defer func() { arenaPublishHook = nil }()
	f.store("a", makeTorn(1, 1)) // into the slot "a" had
	if ok {
		t.Fatalf("reader returned %#x, a value not yet published", v)
	}
}

// TestArenaMissChecksVersion: a reader that loaded a group's ctrl word,
// then found another key in the slot of its key (which an overwrite moved
// within the group, and whose old slot an insert reused), must not answer
// "absent".
func TestArenaMissChecksVersion(t *testing.T) {
	zero := func(string) uint64 { return 0 }
	f := newArenaModel[string, tornVal](t, zero)
	f.store("a", makeTorn(1, 0)) // slot 0
	f.store("b", makeTorn(2, 0)) // slot 1
	grp := f.t.group(0)
	ver, ctrl := atomic.LoadUint64(&grp[1]), atomic.LoadUint64(&grp[0])
	pos, _, _, _ := f.t.Locate(0, "a")
	if np := f.t.Replace(pos, "a", makeTorn(1, 1)); np == pos {
		t.Fatal("Replace did not move key a")
	}
	_, _, free, _ := f.t.Locate(0, "c")
	if free != pos {
		t.Fatalf("key c goes to slot %d, want a's old slot %d", free, pos)
	}
	f.t.Insert(free, 0, "c", makeTorn(3, 0))
	if v, ok := arenaResolve(f.t, "a", ver, ctrl); !ok || v != makeTorn(1, 1) {
		t.Fatalf("key a, present throughout, read as %#x, %v", v, ok)
	}
}

// TestArenaReadersNeverWait: a writer stalled between the stores of a
// slot's words (and its record) and the ctrl store that publishes them
// does not stop readers, and they see the table as it was.
func TestArenaReadersNeverWait(t *testing.T) {
	zero := func(string) uint64 { return 0 }
	for _, overwrite := range []bool{false, true} {
		t.Run(fmt.Sprintf("overwrite=%v", overwrite), func(t *testing.T) {
			tb := NewArena[string, tornVal](1)
			for k := uint64(1); k <= 3; k++ {
				_, _, free, _ := tb.Locate(0, arenaTornKey(k))
				tb.Insert(free, 0, arenaTornKey(k), makeTorn(k, 0))
			}
			stalled, release, written := make(chan struct{}), make(chan struct{}), make(chan struct{})
			arenaPublishHook = func() { close(stalled); <-release }
			go func() {
				defer close(written)
				if overwrite {
					pos, _, _, _ := tb.Locate(0, arenaTornKey(1))
					tb.Replace(pos, arenaTornKey(1), makeTorn(1, 1))
				} else {
					_, _, free, _ := tb.Locate(0, arenaTornKey(5))
					tb.Insert(free, 0, arenaTornKey(5), makeTorn(5, 1))
				}
			}()
			<-stalled
			read := make(chan string)
			go func() {
				for range 1000 {
					for k := uint64(1); k <= 5; k++ {
						v, ok := tb.Find(0, arenaTornKey(k))
						if ok != (k <= 3) || ok && v != makeTorn(k, 0) {
							read <- "saw the stalled write"
							return
						}
					}
				}
				read <- ""
			}()
			select {
			case msg := <-read:
				if msg != "" {
					t.Error(msg)
				}
			case <-time.After(20 * time.Second):
				t.Error("readers did not complete while a writer was stalled")
			}
			close(release)
			<-written
			arenaPublishHook = nil
			if err := tb.CheckInvariants(zero, 3+btoi(!overwrite), 0); err != nil {
				t.Error(err)
			}
		})
	}
}

// arenaHash returns the default hash function of string keys.
func arenaHash() func(string) uint64 {
	h := MakeHasher[string](nil, 0)
	return h.Hash
}

// TestArenaHolds: the slot and ref that Lookup returns identify key for a
// writer while the slot holds it, and no longer once the key is deleted,
// its slot refilled by another key, or the key moved by a spare table's
// Replace. Every key hashes alike (one group, one tag, one check), so
// slots are reused in order and only the ref tells the keys apart.
func TestArenaHolds(t *testing.T) {
	same := func(string) uint64 { return 0x1234_5678_9abc_0000 }
	h := same("")
	tb := NewArena[string, uint64](1)
	_, _, free, _ := tb.Locate(h, "a")
	tb.Insert(free, h, "a", 1)
	v, p, ref := tb.Lookup(h, "a")
	if p != free || v != 1 || !tb.Holds(p, ref) {
		t.Fatalf("Lookup(a) = %v, %v, %#x; Holds = %v; want slot %v, value 1, held", v, p, ref, tb.Holds(p, ref), free)
	}
	if _, q, _ := tb.Lookup(h, "b"); q != NoPos {
		t.Fatalf("Lookup(b) = slot %v, want NoPos", q)
	}
	tb.Delete(p)
	if tb.Holds(p, ref) {
		t.Fatal("Holds: true for a deleted key's slot (its ref word is still there)")
	}
	_, _, free, _ = tb.Locate(h, "b")
	if free != p {
		t.Fatalf("b's free slot %v, want the freed slot %v", free, p)
	}
	tb.Insert(free, h, "b", 2)
	if tb.Holds(p, ref) {
		t.Fatal("Holds: true for a's ref in a slot refilled by b (its ctrl byte is a tag again)")
	}
	if _, q, rb := tb.Lookup(h, "b"); q != p || !tb.Holds(q, rb) {
		t.Fatalf("Lookup(b) = slot %v, held %v; want slot %v, held", q, tb.Holds(q, rb), p)
	}

	// A spare table (two-word values): Replace moves the key.
	ts := NewArena[string, [2]uint64](1)
	_, _, free, _ = ts.Locate(h, "a")
	ts.Insert(free, h, "a", [2]uint64{1, 1})
	_, p, ref = ts.Lookup(h, "a")
	np := ts.Replace(p, "a", [2]uint64{2, 2})
	if np == p {
		t.Fatalf("spare Replace kept slot %v: the test needs a move", p)
	}
	if ts.Holds(p, ref) {
		t.Fatal("Holds: true for the slot a spare Replace moved the key out of")
	}
	if v, q, r := ts.Lookup(h, "a"); q != np || r != ref || v != [2]uint64{2, 2} || !ts.Holds(q, r) {
		t.Fatalf("after the move Lookup(a) = %v, slot %v, ref %#x (held %v); want %v, slot %v, ref %#x", v, q, r, ts.Holds(q, r), [2]uint64{2, 2}, np, ref)
	}
}

// TestArenaKeyEqEveryByte: the writer's comparison of a key with a record
// (keyEq, whose keys of at most 16 bytes are compared without a call:
// word by word from 4 bytes up, byte by byte below) tells apart keys of
// one length that differ in any single byte, at every length up to 20,
// and keys that differ in length only.
func TestArenaKeyEqEveryByte(t *testing.T) {
	hash := func(string) uint64 { return 0x55 } // one group, one tag, one check
	for n := 0; n <= 20; n++ {
		tb := NewArena[string, uint64](4)
		key := strings.Repeat("k", n)
		_, _, free, _ := tb.Locate(hash(key), key)
		tb.Insert(free, hash(key), key, 1)
		if _, found, _, _ := tb.Locate(hash(key), key); !found {
			t.Fatalf("n=%d: Locate(%q) did not find the key just inserted", n, key)
		}
		for i := range n {
			other := key[:i] + "j" + key[i+1:]
			if _, found, _, _ := tb.Locate(hash(other), other); found {
				t.Errorf("n=%d: Locate(%q) found %q (byte %d differs)", n, other, key, i)
			}
		}
		for _, other := range []string{key + "k", strings.Repeat("k", max(n-1, 0))} {
			if other == key {
				continue
			}
			if _, found, _, _ := tb.Locate(hash(other), other); found {
				t.Errorf("n=%d: Locate(%q) found %q (another length)", n, other, key)
			}
		}
	}
}

// TestArenaRecLen: RecLen, computed from a key alone, is the length of
// the record that Insert writes for it (the one DeleteRec counts as
// garbage), across the lengths where the uvarint length prefix grows, and
// DeleteRec with it leaves the arena's counts as Delete does.
func TestArenaRecLen(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 0x7f, 0x80, 0x81, 0x3fff, 0x4000, 1 << 16} {
		k := strings.Repeat("\x00k", n/2) + strings.Repeat("x", n%2)
		h := uint64(0x9e37_79b9_7f4a_7c15) * uint64(n+1)
		a, b := NewArena[string, uint64](1), NewArena[string, uint64](1)
		for _, tb := range []*Arena[string, uint64]{a, b} {
			_, _, free, _ := tb.Locate(h, k)
			tb.Insert(free, h, k, 1)
		}
		p, _, _, _ := a.Locate(h, k)
		if got, want := a.RecLen(k), a.slotRecLen(p); got != want {
			t.Fatalf("RecLen of a %d-byte key = %d, its record holds %d bytes", n, got, want)
		}
		a.Delete(p)
		b.DeleteRec(p, b.RecLen(k))
		la, ga := a.ArenaBytes()
		lb, gb := b.ArenaBytes()
		if la != lb || ga != gb || ga == 0 {
			t.Fatalf("%d-byte key: DeleteRec left %d live and %d garbage bytes, Delete %d and %d", n, lb, gb, la, ga)
		}
	}
}
