package cmap_test

// Adversarial tests aimed at string-keyed maps whose keys may live in byte
// arenas of the tables: keys of every awkward shape (empty, NUL bytes,
// invalid UTF-8, lengths around varint and chunk boundaries, larger than
// any chunk), keys handed out by iteration outliving rebuilds, Clear and
// the map itself across garbage collections, torn reads under concurrent
// writes and compactions, panicking hashers and callbacks, bounds, JSON,
// and random operation sequences checked against a model and against the
// entry layout. Public API only: they run on every layout.

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/segmap/segmap/cmap"
)

// advWeirdKeys are keys that stress a byte arena's encoding: the empty
// key, NUL bytes, invalid UTF-8, lengths at one- and two-byte varint
// boundaries, around 64 KiB (a chunk), and above it.
func advWeirdKeys() []string {
	ks := []string{"", "\x00", "\x00\x00", "a\x00b", "\xff", "\xc3\x28", "\xed\xa0\x80", "\xf4\x90\x80\x80", strings.Repeat("\x00", 300)}
	for _, n := range []int{1, 126, 127, 128, 129, 255, 256, 16383, 16384, 16385, 65533, 65534, 65535, 65536, 65537, 100000, 300000} {
		ks = append(ks, strings.Repeat(string(rune('A'+n%26)), n))
		ks = append(ks, strings.Repeat("\xfe", n-1)+"z")
	}
	return ks
}

// TestAdvArenaWeirdKeys: each weird key is stored, found, ranged over with
// its exact bytes, overwritten, deleted and found absent, with every other
// key still there, across rebuilds (Reserve, and deletes that compact).
func TestAdvArenaWeirdKeys(t *testing.T) {
	m := cmap.New[string, uint64](cmap.WithSegments(2))
	ks := advWeirdKeys()
	model := map[string]uint64{}
	for i, k := range ks {
		m.Store(k, uint64(i))
		model[k] = uint64(i)
	}
	advSameAs(t, m, model)
	m.Reserve(1000)
	advSameAs(t, m, model)
	for round := range 3 {
		for i, k := range ks {
			switch (i + round) % 3 {
			case 0:
				m.Delete(k)
				delete(model, k)
			case 1:
				m.Store(k, uint64(i*10+round))
				model[k] = uint64(i*10 + round)
			case 2:
				m.LoadOrStore(k, 7)
				if _, ok := model[k]; !ok {
					model[k] = 7
				}
			}
			advSameAs(t, m, model)
		}
	}
	// A key that differs from a stored one only after a NUL, or in its
	// last byte, is another key.
	if _, ok := m.Load("a\x00c"); ok {
		t.Fatal(`"a\x00c" found`)
	}
}

// TestAdvArenaBigKeyDelete: deleting a key whose bytes outweigh every
// other key of its segment (here 5 KB against 6 bytes) must keep the map's
// invariants, the arena's garbage bound among them: a compaction made
// before the delete cannot drop the record being deleted, so the garbage
// it leaves is that record, over a bound of max(live bytes, minimum).
func TestAdvArenaBigKeyDelete(t *testing.T) {
	for _, n := range []int{5000, 100000} {
		m := cmap.New[string, uint64](cmap.WithSegments(1))
		m.Store("small", 1)
		big := strings.Repeat("x", n)
		m.Store(big, 2)
		if r := recovered(func() { m.Delete(big) }); r != nil {
			t.Fatalf("Delete of a %d-byte key panicked: %v", n, r)
		}
		check(t, m)
		advSameAs(t, m, map[string]uint64{"small": 1})
	}
}

// TestAdvArenaEmptyKeyAtChunkEnd: the empty key's record (its one length
// byte) placed last in an arena chunk — here the first chunk of 256
// bytes, after a 253-byte key's 255-byte record — is loaded by Load,
// which must form no pointer past the chunk (under -race, checkptr
// crashes the process: "found bad pointer in Go heap" or "pointer
// arithmetic result points to invalid allocation"; without it, such a
// pointer seen by the garbage collector can do the same).
func TestAdvArenaEmptyKeyAtChunkEnd(t *testing.T) {
	for _, fill := range []int{253, 125, 0} {
		m := cmap.New[string, uint64](cmap.WithSegments(1))
		if fill > 0 {
			m.Store(strings.Repeat("f", fill), 1)
		}
		m.Store("", 2)
		for range 100 {
			if v, ok := m.Load(""); !ok || v != 2 {
				t.Fatalf("Load(\"\") = %d %v", v, ok)
			}
			if _, ok := m.Load("x"); ok {
				t.Fatal(`Load("x") found`)
			}
		}
		runtime.GC()
		check(t, m)
	}
}

// advSameAs fails unless m holds exactly model: Len, Load of each key,
// and the keys Range yields byte for byte.
func advSameAs[V comparable](t *testing.T, m *cmap.Map[string, V], model map[string]V) {
	t.Helper()
	if m.Len() != len(model) {
		t.Fatalf("Len %d, model %d", m.Len(), len(model))
	}
	for k, want := range model {
		if v, ok := m.Load(k); !ok || v != want {
			t.Fatalf("Load(%q…len %d) = %v %v, want %v", advShort(k), len(k), v, ok, want)
		}
	}
	n := 0
	for k, v := range m.All() {
		n++
		if want, ok := model[k]; !ok || want != v {
			t.Fatalf("All yields %q…len %d → %v, model has %v %v", advShort(k), len(k), v, want, ok)
		}
	}
	if n != len(model) {
		t.Fatalf("All yields %d entries, model %d", n, len(model))
	}
	check(t, m)
}

func advShort(s string) string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

// TestAdvArenaKeysOutliveTables: keys handed out by All, Keys, a snapshot
// and DeleteFunc's callback keep their bytes after the tables they came
// from are rebuilt, compacted, cleared and dropped, the map with them,
// while garbage is collected and the freed memory reused by new keys of the
// same lengths.
func TestAdvArenaKeysOutliveTables(t *testing.T) {
	m := cmap.New[string, uint64](cmap.WithSegments(4))
	want := map[string]bool{}
	for i := range 2000 {
		k := fmt.Sprintf("key-%06d-%s", i, strings.Repeat("p", i%97))
		m.Store(k, uint64(i))
		want[k] = true
	}
	var held []string
	for k := range m.Keys() {
		held = append(held, k)
	}
	s := m.Snapshot()
	for k := range s.Keys() {
		held = append(held, k)
	}
	m.DeleteFunc(func(k string, v uint64) bool {
		if v%2 == 0 {
			held = append(held, k)
			return true
		}
		return false
	})
	// Rebuild, compact and clear everything the keys came from.
	for i := range 4000 {
		k := fmt.Sprintf("KEY+%06d+%s", i, strings.Repeat("q", i%97))
		m.Store(k, 0)
		if i%3 != 0 {
			m.Delete(k)
		}
	}
	m.Reserve(50000)
	m.Clear()
	s = nil
	m = nil
	for range 3 {
		runtime.GC()
		junk := make([][]byte, 0, 1000)
		for i := range 1000 {
			junk = append(junk, []byte(strings.Repeat("Z", 50+i%100)))
		}
		runtime.KeepAlive(junk)
	}
	for _, k := range held {
		if !want[k] {
			t.Fatalf("held key changed after its tables were dropped: now %q", advShort(k))
		}
	}
	if len(held) != 2000+2000+1000 {
		t.Fatalf("held %d keys, want 5000", len(held))
	}
}

// TestAdvArenaCallerMutatesKeyBytes: a key built over a caller's []byte
// (unsafe.String) that the caller changes after the Store: documented as
// undefined for strings in general, but a map that copies key bytes must
// keep finding the key by its original bytes, and a map that does not
// must not crash. What the map yields for the key is reported.
func TestAdvArenaCallerMutatesKeyBytes(t *testing.T) {
	m := cmap.New[string, uint64](cmap.WithSegments(1))
	b := []byte("mutable-key-0001")
	k := unsafe.String(&b[0], len(b))
	m.Store(k, 1)
	for i := range 50 { // force rebuilds around it
		m.Store(strconv.Itoa(i), uint64(i))
	}
	copy(b, "MUTATED!")
	got := ""
	for kk := range m.Keys() {
		if strings.HasSuffix(kk, "key-0001") {
			got = kk
		}
	}
	_, byOld := m.Load("mutable-key-0001")
	if m.Stats().Layout == "arena" {
		if !byOld || got != "mutable-key-0001" {
			t.Fatalf("arena map: after the caller's bytes changed, Load(original) %v, key ranged %q", byOld, got)
		}
	}
	t.Logf("layout %s: Load(original) %v, key ranged %q", m.Stats().Layout, byOld, got)
}

// advArenaVal is a four-word value tied to its key's id and a sequence
// number, so a torn value or another key's is detected.
type advArenaVal [4]uint64

func advArenaMk(id, seq uint64) advArenaVal {
	return advArenaVal{id, seq, id*0x9E3779B97F4A7C15 ^ seq, ^id}
}

// advArenaKey is key id: its decimal digits, a colon and id%150 filler
// bytes (so records of many lengths, and compactions, alternate).
func advArenaKey(id uint64) string {
	return strconv.FormatUint(id, 10) + ":" + strings.Repeat(string(rune('a'+id%26)), int(id%150))
}

// advArenaParse returns the id of a well-formed key, or an error.
func advArenaParse(k string) (uint64, error) {
	i := strings.IndexByte(k, ':')
	if i < 0 {
		return 0, fmt.Errorf("malformed key %q", advShort(k))
	}
	id, err := strconv.ParseUint(k[:i], 10, 64)
	if err != nil || advArenaKey(id) != k {
		return 0, fmt.Errorf("malformed key %q (len %d)", advShort(k), len(k))
	}
	return id, nil
}

// TestAdvArenaTornReads: writers churn string keys (inserts, overwrites,
// deletes: the arenas fill with garbage and compact) while readers Load,
// iterate and snapshot, checking every key and value for tearing, and
// every key they were handed, again at the end, after GC.
func TestAdvArenaTornReads(t *testing.T) {
	const writers, keysPer = 3, 60
	rounds := 3000
	if testing.Short() {
		rounds = 1000
	}
	m := cmap.New[string, advArenaVal](cmap.WithSegments(2))
	var stop atomic.Bool
	var wg, rwg sync.WaitGroup
	errs := make(chan error, 8)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
		stop.Store(true)
	}
	var heldMu sync.Mutex
	var held []string
	checkKV := func(k string, v advArenaVal) {
		id, err := advArenaParse(k)
		if err == nil && v != advArenaMk(id, v[1]) {
			err = fmt.Errorf("key %q: torn or foreign value %x", advShort(k), v)
		}
		if err != nil {
			fail(err)
		}
	}
	rwg.Add(2)
	go func() {
		defer rwg.Done()
		for i := uint64(0); !stop.Load(); i++ {
			id := i % (writers * keysPer)
			if v, ok := m.Load(advArenaKey(id)); ok && v != advArenaMk(id, v[1]) {
				fail(fmt.Errorf("Load(%d): torn or foreign value %x", id, v))
			}
		}
	}()
	go func() {
		defer rwg.Done()
		for i := 0; !stop.Load(); i++ {
			if i%2 == 0 {
				for k, v := range m.All() {
					checkKV(k, v)
					heldMu.Lock()
					if len(held) < 5000 {
						held = append(held, k)
					}
					heldMu.Unlock()
				}
			} else {
				for k, v := range m.Snapshot().All() {
					checkKV(k, v)
				}
			}
			runtime.Gosched()
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range rounds {
				if stop.Load() {
					return
				}
				id := uint64(w*keysPer) + r.Uint64N(keysPer)
				k := advArenaKey(id)
				seq := uint64(i + 1)
				switch r.IntN(6) {
				case 0, 1:
					m.Store(k, advArenaMk(id, seq))
				case 2, 3:
					m.Delete(k)
				case 4:
					m.Compute(k, func(old advArenaVal, loaded bool) (advArenaVal, cmap.ComputeOp) {
						if loaded && old != advArenaMk(id, old[1]) {
							fail(fmt.Errorf("Compute(%d): old value %x", id, old))
						}
						if seq%2 == 0 {
							return advArenaVal{}, cmap.DeleteOp
						}
						return advArenaMk(id, seq), cmap.UpdateOp
					})
				case 5:
					if i%100 == 0 {
						m.Reserve(int(r.Uint64N(500)))
					} else {
						m.LoadOrStore(k, advArenaMk(id, seq))
					}
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	rwg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	check(t, m)
	m.Clear()
	runtime.GC()
	runtime.GC()
	for _, k := range held {
		if _, err := advArenaParse(k); err != nil {
			t.Fatalf("a key handed out by All changed after Clear and GC: %v", err)
		}
	}
}

// advBombStr is a string hasher (xxhash) that panics, while armed, on keys
// starting with "b".
type advBombStr struct{ armed atomic.Bool }

func (b *advBombStr) hash(seed uint64, k string) uint64 {
	if b.armed.Load() && strings.HasPrefix(k, "b") {
		panic("string hasher exploded")
	}
	var d xxhash.Digest
	d.ResetWithSeed(seed)
	_, _ = d.WriteString(k)
	return d.Sum64()
}

// TestAdvArenaHasherPanicMidRebuild: a hasher that panics while a rebuild
// (growth or Reserve; the compaction that a delete may need hashes
// nothing) rehashes the keys leaves the map exactly as it was, and
// usable; keys not starting
// with "b" (the write's own) hash fine, so the panic comes from the
// rebuild.
func TestAdvArenaHasherPanicMidRebuild(t *testing.T) {
	var b advBombStr
	m := cmap.New[string, uint64](cmap.WithSegments(1), cmap.WithHasher(b.hash), cmap.WithSeed(3))
	model := map[string]uint64{}
	long := strings.Repeat("L", 200)
	panics := 0
	for i := range 3000 {
		own := fmt.Sprintf("x%d%s", i, long[:i%200])
		kind := i % 5
		b.armed.Store(i%7 == 0)
		r := recovered(func() {
			switch kind {
			case 0, 1:
				m.Store(own, uint64(i))
			case 2:
				m.Delete(fmt.Sprintf("x%d%s", i-2, long[:(i-2)%200]))
			case 3:
				m.Reserve(i % 700)
			case 4:
				m.Store(fmt.Sprintf("b%d", i), uint64(i))
			}
		})
		b.armed.Store(false)
		if r != nil {
			if r != "string hasher exploded" {
				t.Fatalf("op %d panicked with %v", i, r)
			}
			panics++
		} else {
			switch kind {
			case 0, 1:
				model[own] = uint64(i)
			case 2:
				delete(model, fmt.Sprintf("x%d%s", i-2, long[:(i-2)%200]))
			case 4:
				model[fmt.Sprintf("b%d", i)] = uint64(i)
			}
		}
		if i%250 == 0 {
			advSameAs(t, m, model)
		}
	}
	advSameAs(t, m, model)
	if panics == 0 {
		t.Fatal("the hasher never exploded: the test lost its teeth")
	}
}

// TestAdvArenaComputePanic: a Compute callback that panics on a string
// key, present or absent, leaves the map as it was and unlocked.
func TestAdvArenaComputePanic(t *testing.T) {
	m := cmap.New[string, uint64](cmap.WithSegments(1))
	model := map[string]uint64{}
	for _, k := range advWeirdKeys() {
		m.Store(k, 1)
		model[k] = 1
	}
	for _, k := range append(advWeirdKeys(), "absent", strings.Repeat("absent", 20000)) {
		if r := recovered(func() {
			m.Compute(k, func(uint64, bool) (uint64, cmap.ComputeOp) { panic("boom") })
		}); r != "boom" {
			t.Fatalf("Compute panicked with %v", r)
		}
	}
	mustBeUnlocked(t, m)
	advSameAs(t, m, model)
}

// TestAdvArenaBounded: string-keyed maps bounded with RejectNew hold at
// most their bound through churn that compacts, and an EvictOldest map
// keeps its order; both agree with a model.
func TestAdvArenaBounded(t *testing.T) {
	const bound = 50
	m := cmap.New[string, uint64](cmap.WithMaxLen(bound, cmap.RejectNew), cmap.WithSegments(2))
	model := map[string]uint64{}
	r := rand.New(rand.NewPCG(9, 9))
	for i := range 5000 {
		k := advArenaKey(r.Uint64N(200))
		if r.IntN(2) == 0 {
			err := m.TryStore(k, uint64(i))
			_, present := model[k]
			switch {
			case err == nil:
				model[k] = uint64(i)
			case present || len(model) < bound:
				t.Fatalf("TryStore(%q) = %v with %d entries, key present %v", advShort(k), err, len(model), present)
			}
		} else {
			m.Delete(k)
			delete(model, k)
		}
		if m.Len() > bound {
			t.Fatalf("Len %d over the bound %d", m.Len(), bound)
		}
	}
	advSameAs(t, m, model)

	e := cmap.New[string, uint64](cmap.WithMaxLen(bound, cmap.EvictOldest))
	for i := range 500 {
		e.Store(advArenaKey(uint64(i)), uint64(i))
	}
	if e.Len() != bound {
		t.Fatalf("EvictOldest map Len %d, want %d", e.Len(), bound)
	}
	for i := range 450 {
		if _, ok := e.Load(advArenaKey(uint64(i))); ok {
			t.Fatalf("evicted key %d still present", i)
		}
	}
	check(t, e)
}

// TestAdvArenaJSON: a map of weird string keys marshals as the built-in
// map does and round-trips into a new map (invalid UTF-8 is coerced by
// encoding/json on both sides alike).
func TestAdvArenaJSON(t *testing.T) {
	m := cmap.New[string, uint64]()
	model := map[string]uint64{}
	for i, k := range advWeirdKeys() {
		if len(k) > 20000 {
			continue
		}
		m.Store(k, uint64(i))
		model[k] = uint64(i)
	}
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(model)
	var gm, wm map[string]uint64
	if err := json.Unmarshal(got, &gm); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(want, &wm)
	if !maps.Equal(gm, wm) {
		t.Fatalf("JSON of the map decodes to %d keys, the built-in map's to %d", len(gm), len(wm))
	}
	m2 := cmap.New[string, uint64]()
	if err := json.Unmarshal(got, m2); err != nil {
		t.Fatal(err)
	}
	advSameAs(t, m2, wm)
}

// advStr is a named string type: arena maps must handle K whose
// underlying type is string.
type advStr string

// TestAdvArenaVsEntries: random operation sequences on string keys, run on
// the default layout and on the entry layout side by side (and a model),
// must give the same results and the same contents, including snapshots
// taken on the way and checked at the end.
func TestAdvArenaVsEntries(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 1500
	}
	for seed := range uint64(3) {
		cmap.ForceEntryLayout(true)
		ref := cmap.New[advStr, uint64](cmap.WithSegments(2))
		cmap.ForceEntryLayout(false)
		m := cmap.New[advStr, uint64](cmap.WithSegments(2))
		t.Logf("layouts %s vs %s", m.Stats().Layout, ref.Stats().Layout)
		r := rand.New(rand.NewPCG(seed, 42))
		weird := advWeirdKeys()
		key := func() advStr {
			if r.IntN(20) == 0 {
				return advStr(weird[r.IntN(len(weird))])
			}
			return advStr(advArenaKey(r.Uint64N(300)))
		}
		type snap struct {
			s    interface{ Len() int }
			all  func() map[advStr]uint64
			want map[advStr]uint64
		}
		var snaps []snap
		for i := range n {
			k, v := key(), uint64(i)
			var a, b string
			switch op := r.IntN(12); op {
			case 0, 1:
				m.Store(k, v)
				ref.Store(k, v)
			case 2:
				x, l := m.Swap(k, v)
				y, l2 := ref.Swap(k, v)
				a, b = fmt.Sprint(x, l), fmt.Sprint(y, l2)
			case 3:
				x, l := m.LoadOrStore(k, v)
				y, l2 := ref.LoadOrStore(k, v)
				a, b = fmt.Sprint(x, l), fmt.Sprint(y, l2)
			case 4, 5:
				x, l := m.LoadAndDelete(k)
				y, l2 := ref.LoadAndDelete(k)
				a, b = fmt.Sprint(x, l), fmt.Sprint(y, l2)
			case 6:
				old, _ := ref.Load(k)
				a, b = fmt.Sprint(m.CompareAndSwap(k, old, v)), fmt.Sprint(ref.CompareAndSwap(k, old, v))
			case 7:
				old, _ := ref.Load(k)
				a, b = fmt.Sprint(m.CompareAndDelete(k, old)), fmt.Sprint(ref.CompareAndDelete(k, old))
			case 8:
				f := func(old uint64, loaded bool) (uint64, cmap.ComputeOp) {
					if loaded && old%3 == 0 {
						return 0, cmap.DeleteOp
					}
					return old + v, cmap.ComputeOp(int(v) % 3)
				}
				x, l := m.Compute(k, f)
				y, l2 := ref.Compute(k, f)
				a, b = fmt.Sprint(x, l), fmt.Sprint(y, l2)
			case 9:
				if i%50 == 0 {
					m.Reserve(int(v % 2000))
					ref.Reserve(int(v % 2000))
				} else if i%301 == 0 {
					m.Clear()
					ref.Clear()
				}
			case 10:
				del := func(k advStr, x uint64) bool { return (uint64(len(k))+x)%5 == 0 }
				if i%20 == 0 {
					a, b = fmt.Sprint(m.DeleteFunc(del)), fmt.Sprint(ref.DeleteFunc(del))
				}
			case 11:
				if i%40 == 0 {
					s := m.Snapshot()
					snaps = append(snaps, snap{s, func() map[advStr]uint64 { return maps.Collect(s.All()) }, contents(ref)})
				}
			}
			if a != b {
				t.Fatalf("seed %d op %d on key %q: %s, entry layout %s", seed, i, advShort(string(k)), a, b)
			}
			x, l := m.Load(k)
			y, l2 := ref.Load(k)
			if x != y || l != l2 {
				t.Fatalf("seed %d op %d: Load(%q) %d %v, entry layout %d %v", seed, i, advShort(string(k)), x, l, y, l2)
			}
		}
		if got, want := contents(m), contents(ref); !maps.Equal(got, want) || m.Len() != ref.Len() {
			t.Fatalf("seed %d: contents differ: %d vs %d entries (Len %d vs %d)", seed, len(got), len(want), m.Len(), ref.Len())
		}
		check(t, m)
		runtime.GC()
		for j, s := range snaps {
			if got := s.all(); !maps.Equal(got, s.want) || s.s.Len() != len(s.want) {
				t.Fatalf("seed %d: snapshot %d changed: %d entries, took %d", seed, j, len(got), len(s.want))
			}
		}
	}
}

// TestArenaEngineStepPanicUnlocks: a light write of an arena map that
// hands the write engine the rest of an insert (resumePut: a rebuild of
// its full segment) or of a delete (resumeDelete: a shrink) releases the
// segment lock when that rebuild panics, and leaves the map as it was.
// The hasher panics only on the keys already stored ("b…"), so the panic
// comes from the rebuild, inside the engine's step.
func TestArenaEngineStepPanicUnlocks(t *testing.T) {
	for _, del := range []bool{false, true} {
		var b advBombStr
		m := cmap.New[string, uint64](cmap.WithSegments(1), cmap.WithHasher(b.hash), cmap.WithSeed(5))
		model := map[string]uint64{}
		for i := range 2000 {
			k := fmt.Sprintf("b%d", i)
			m.Store(k, uint64(i))
			model[k] = uint64(i)
		}
		panicked := false
		for i := range 20000 {
			// An own key that hashes fine: "x…" to insert, or, to delete,
			// stored first (disarmed) so that the delete empties the table.
			k := fmt.Sprintf("x%d", i)
			if del {
				m.Store(k, 1)
				delete(model, fmt.Sprintf("b%d", i))
				m.Delete(fmt.Sprintf("b%d", i)) // disarmed: shrinks freely
			}
			b.armed.Store(true)
			r := recovered(func() {
				if del {
					m.Delete(k)
				} else {
					m.Store(k, uint64(i))
				}
			})
			b.armed.Store(false)
			if r == nil {
				if del {
					delete(model, k)
				} else {
					model[k] = uint64(i)
				}
				if del && i >= 1999 {
					break
				}
				continue
			}
			if r != "string hasher exploded" {
				t.Fatalf("del=%v: op %d panicked with %v", del, i, r)
			}
			if del {
				model[k] = 1
			}
			if m.SegmentLocked(k) {
				t.Fatalf("del=%v: the segment is left locked after the engine's rebuild panicked", del)
			}
			panicked = true
			break
		}
		if !panicked {
			t.Fatalf("del=%v: no write reached a rebuild with the hasher armed: the test lost its teeth", del)
		}
		advSameAs(t, m, model)
	}
}
