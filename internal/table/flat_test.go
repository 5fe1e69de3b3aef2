package table

import (
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

func TestFlatFits(t *testing.T) {
	type padded struct {
		a uint8
		b uint64
	}
	type nested struct {
		p [1]padded
		c complex64
	}
	_ = nested{p: [1]padded{{a: 1, b: 2}}, c: 3} // only the types' layouts matter
	for _, c := range []struct {
		name string
		fits bool
	}{
		{"uint64→uint64", FlatFits[uint64, uint64]()},
		{"[4]uint64→bool", FlatFits[[4]uint64, bool]()},
		{"padded→nested", FlatFits[padded, nested]()},
		{"float64→struct{}", FlatFits[float64, struct{}]()},
		{"uintptr→complex128", FlatFits[uintptr, complex128]()},
	} {
		if !c.fits {
			t.Errorf("%s: does not fit a flat table", c.name)
		}
	}
	for _, c := range []struct {
		name string
		fits bool
	}{
		{"string key", FlatFits[string, uint64]()},
		{"pointer value", FlatFits[uint64, *int]()},
		{"slice value", FlatFits[uint64, []byte]()},
		{"interface key", FlatFits[any, uint64]()},
		{"map value", FlatFits[int, map[int]int]()},
		{"chan value", FlatFits[int, chan int]()},
		{"func value", FlatFits[int, func()]()},
		{"unsafe.Pointer value", FlatFits[int, unsafe.Pointer]()},
		{"struct with a string", FlatFits[struct{ a, b int }, struct {
			n int
			s string
		}]()},
		{"array of pointers", FlatFits[[1]*int, int]()},
		{"33-byte key", FlatFits[[33]byte, int]()},
		{"40-byte value", FlatFits[int, [5]uint64]()},
	} {
		if c.fits {
			t.Errorf("%s: fits a flat table", c.name)
		}
	}
}

// TestFlatZeroIsEmpty: a new table is zeroed words, and is empty.
func TestFlatZeroIsEmpty(t *testing.T) {
	tb := NewFlat[uint64, uint64](4)
	for i, w := range tb.words {
		if w != 0 {
			t.Fatalf("word %d of a new table is %#x", i, w)
		}
	}
	if err := tb.CheckInvariants(func(k uint64) uint64 { return mix(k) }, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := tb.Find(mix(1), 1); ok {
		t.Fatal("found a key in a new table")
	}
	if tb.Spare() || !NewFlat[uint64, [2]uint64](1).Spare() || NewFlat[[4]uint64, uint64](1).Spare() {
		t.Fatal("spare tables are those with values of 2 words or more")
	}
}

// flatModel drives a flat table as the cmap writer does (load bound,
// rebuilds) and checks it against a built-in map.
type flatModel[K comparable, V comparable] struct {
	tb         testing.TB
	t          *Flat[K, V]
	live, dead int
	hash       func(K) uint64
	m          map[K]V
}

func newFlatModel[K, V comparable](tb testing.TB, hash func(K) uint64) *flatModel[K, V] {
	return &flatModel[K, V]{tb: tb, t: NewFlat[K, V](1), hash: hash, m: make(map[K]V)}
}

func (f *flatModel[K, V]) store(k K, v V) {
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

func (f *flatModel[K, V]) del(k K) {
	pos, found, _, _ := f.t.Locate(f.hash(k), k)
	_, want := f.m[k]
	if found != want {
		f.tb.Fatalf("Locate(%v) found = %v, model has it: %v", k, found, want)
	}
	if found {
		if f.t.Delete(pos) {
			f.dead++
		}
		f.live--
		delete(f.m, k)
	}
}

func (f *flatModel[K, V]) rebuild(n int) {
	nt, live := f.t.Copy(max(n, GroupsFor(f.live)), f.hash)
	if live != f.live {
		f.tb.Fatalf("Copy copied %d of %d", live, f.live)
	}
	f.t, f.dead = nt, 0
}

// lookup checks Find and Locate for k against the model.
func (f *flatModel[K, V]) lookup(k K) {
	want, in := f.m[k]
	got, ok := f.t.Find(f.hash(k), k)
	if ok != in || (ok && got != want) {
		f.tb.Fatalf("Find(%v) = %v, %v; want %v, %v", k, got, ok, want, in)
	}
	f.checkHome(k, want, in)
	if pos, found, _, _ := f.t.Locate(f.hash(k), k); found != in || (found && func() bool { _, v := f.t.At(pos); return v != want }()) {
		f.tb.Fatalf("Locate(%v) found = %v at %d; model: %v", k, found, pos, in)
	}
}

// check verifies the invariants and that the table holds the model.
func (f *flatModel[K, V]) check() {
	if err := f.t.CheckInvariants(f.hash, f.live, f.dead); err != nil {
		f.tb.Fatal(err)
	}
	if f.live != len(f.m) {
		f.tb.Fatalf("table holds %d keys, model %d", f.live, len(f.m))
	}
	n := 0
	f.t.Range(func(k K, v V) bool {
		n++
		if k == k { // NaN keys are in the model too, but not findable
			if w, ok := f.m[k]; !ok || w != v {
				f.tb.Fatalf("Range yields %v: %v; model has %v, %v", k, v, w, ok)
			}
		}
		return true
	})
	if n != len(f.m) {
		f.tb.Fatalf("Range yields %d keys, model has %d", n, len(f.m))
	}
}

// run applies the operations encoded in ops, two bytes each, checking the
// invariants after every step.
func (f *flatModel[K, V]) run(ops []byte, key func(b byte, r *rand.Rand) K, val func(n uint64) V) {
	r := rand.New(rand.NewPCG(uint64(len(ops)), 7))
	for i := 0; i+1 < len(ops); i += 2 {
		k := key(ops[i+1], r)
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
			f.t = f.t.Clone()
		}
		f.lookup(key(ops[i+1], r))
		f.check()
	}
	for k := range f.m {
		f.lookup(k)
	}
}

// paddedKey has padding bytes after a: 7 (3 on 386, where b is 4-byte
// aligned).
type paddedKey struct {
	a uint8
	b uint64
}

// paddedBytes returns the bytes of *k, padding included.
func paddedBytes(k *paddedKey) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(k)), unsafe.Sizeof(*k))
}

// spoil fills the padding of k with random bytes: keys are compared as K
// values, so this must change nothing.
func spoil(k paddedKey, r *rand.Rand) paddedKey {
	spoilAt(&k, r)
	return k
}

// spoilAt fills the padding of *k with random bytes, in place. (A struct
// returned by value may be copied field by field, which drops them: with
// -race, spoil's result has lost them at times.)
func spoilAt(k *paddedKey, r *rand.Rand) {
	p := paddedBytes(k)
	for i := 1; i < int(unsafe.Offsetof(k.b)); i++ {
		p[i] = byte(r.Uint32())
	}
}

var specialFloats = []float64{math.NaN(), 0, math.Copysign(0, -1), 1, -1, math.Inf(1), math.Inf(-1), 0.5, math.SmallestNonzeroFloat64}

func floatKey(b byte, _ *rand.Rand) float64 {
	if int(b) < 2*len(specialFloats) {
		return specialFloats[int(b)%len(specialFloats)]
	}
	return float64(b)
}

// hashers returns the default hasher for K and a colliding one (16 hash
// values in all: long probes, equal tags).
func hashers[K comparable]() map[string]func(K) uint64 {
	good := MakeHasher[K](nil, 0)
	seed := maphash.MakeSeed()
	bad := MakeHasher(func(_ uint64, k K) uint64 { return maphash.Comparable(seed, k) & 15 }, 0)
	return map[string]func(K) uint64{"default": good.Hash, "colliding": bad.Hash}
}

// runFlatShapes runs ops on every key and value shape under test.
func runFlatShapes(t *testing.T, ops []byte) {
	for name, h := range hashers[uint64]() {
		t.Run("uint64→uint64/"+name, func(t *testing.T) {
			newFlatModel[uint64, uint64](t, h).run(ops,
				func(b byte, _ *rand.Rand) uint64 { return uint64(b) },
				func(n uint64) uint64 { return n })
		})
	}
	for name, h := range hashers[[3]uint64]() {
		t.Run("[3]uint64→[3]uint64/"+name, func(t *testing.T) {
			newFlatModel[[3]uint64, [3]uint64](t, h).run(ops,
				func(b byte, _ *rand.Rand) [3]uint64 { return [3]uint64{uint64(b), uint64(b) * 7, 3} },
				func(n uint64) [3]uint64 { return [3]uint64{n, ^n, n * 3} })
		})
	}
	for name, h := range hashers[paddedKey]() {
		t.Run("padded→uint32/"+name, func(t *testing.T) {
			newFlatModel[paddedKey, uint32](t, h).run(ops,
				func(b byte, r *rand.Rand) paddedKey { return spoil(paddedKey{a: b & 3, b: uint64(b >> 2)}, r) },
				func(n uint64) uint32 { return uint32(n) })
		})
	}
	for name, h := range hashers[float64]() {
		t.Run("float64→[2]uint64/"+name, func(t *testing.T) {
			newFlatModel[float64, [2]uint64](t, h).run(ops, floatKey,
				func(n uint64) [2]uint64 { return [2]uint64{n, n + 1} })
		})
	}
	for name, h := range hashers[uint8]() {
		t.Run("uint8→struct{}/"+name, func(t *testing.T) {
			newFlatModel[uint8, struct{}](t, h).run(ops,
				func(b byte, _ *rand.Rand) uint8 { return b },
				func(uint64) struct{} { return struct{}{} })
		})
	}
}

// FuzzFlat checks flat tables of several shapes against a built-in map,
// with CheckInvariants after every operation.
func FuzzFlat(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{16, 400, 1200} {
		ops := make([]byte, n)
		for i := range ops {
			ops[i] = byte(r.Uint32())
		}
		f.Add(ops)
		// Mostly stores of few keys, then mostly deletes: growth, overwrite,
		// tombstones and shrinking.
		few := make([]byte, n)
		for i := 0; i+1 < n; i += 2 {
			few[i], few[i+1] = byte(r.IntN(3)), byte(r.IntN(40))
			if i > n/2 {
				few[i] = 3 + byte(r.IntN(3))
			}
		}
		f.Add(few)
	}
	f.Fuzz(runFlatShapes)
}

// TestFlatPaddingIgnored: a key is found whatever its padding bytes hold.
func TestFlatPaddingIgnored(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	hr := MakeHasher[paddedKey](nil, 0)
	hash := hr.Hash
	tb := NewFlat[paddedKey, uint64](1)
	k := paddedKey{a: 1, b: 2}
	k1, k2 := k, k
	spoilAt(&k1, r)
	spoilAt(&k2, r)
	if string(paddedBytes(&k1)) == string(paddedBytes(&k2)) {
		t.Fatal("spoil left the padding equal")
	}
	_, _, free, _ := tb.Locate(hash(k1), k1)
	tb.Insert(free, hash(k1), k1, 7)
	if v, ok := tb.Find(hash(k2), k2); !ok || v != 7 {
		t.Fatalf("Find with other padding = %v, %v", v, ok)
	}
	if _, found, _, _ := tb.Locate(hash(k2), k2); !found {
		t.Fatal("Locate with other padding missed the key")
	}
}

// TestFlatFloatKeys: NaN is never found, +0 and -0 are one key.
func TestFlatFloatKeys(t *testing.T) {
	hr := MakeHasher[float64](nil, 0)
	f := newFlatModel[float64, uint64](t, hr.Hash)
	f.store(math.NaN(), 1)
	f.store(math.NaN(), 2)
	f.store(0, 3)
	f.store(math.Copysign(0, -1), 4)
	f.check()
	if f.live != 3 {
		t.Fatalf("%d keys after two NaNs and ±0, want 3", f.live)
	}
	if v, ok := f.t.Find(f.hash(0), 0); !ok || v != 4 {
		t.Fatalf("Find(+0) = %v, %v; want the value stored for -0", v, ok)
	}
	if _, ok := f.t.Find(f.hash(math.NaN()), math.NaN()); ok {
		t.Fatal("found NaN")
	}
}

// TestFlatSpareRule: in a spare table, an insert leaves a free slot in its
// group, a probe does not stop at a group with one EMPTY byte, and an
// overwrite moves the key within its group keeping the group's counts.
func TestFlatSpareRule(t *testing.T) {
	same := func(uint64) uint64 { return 0 } // every key homes in group 0
	f := newFlatModel[uint64, [2]uint64](t, same)
	f.t = NewFlat[uint64, [2]uint64](4)
	for k := range uint64(9) { // 6 in group 0 (one slot kept free), 3 in group 1
		f.store(k, [2]uint64{k, k})
	}
	f.check()
	pos, _, _, _ := f.t.Locate(0, 8)
	if pos>>3 != 1 {
		t.Fatalf("key 8 in group %d, want 1", pos>>3)
	}
	// Group 0 has one EMPTY byte: it does not stop probes, so a delete
	// there leaves a tombstone.
	p3, _, _, _ := f.t.Locate(0, 3)
	if !f.t.Delete(p3) {
		t.Fatal("delete in a group with one EMPTY byte (spare table) left EMPTY")
	}
	f.dead++
	f.live--
	delete(f.m, 3)
	f.check()
	p5, _, _, _ := f.t.Locate(0, 5)
	if np := f.t.Replace(p5, 5, [2]uint64{50, 50}); np == p5 || np>>3 != p5>>3 {
		t.Fatalf("Replace moved key 5 from %d to %d, want another slot of its group", p5, np)
	}
	f.m[5] = [2]uint64{50, 50}
	f.check()
}

func TestFlatCheckInvariantsCatches(t *testing.T) {
	hash := func(k uint64) uint64 { return mix(k) }
	tb := NewFlat[uint64, [2]uint64](1)
	_, _, free, _ := tb.Locate(hash(1), 1)
	tb.Insert(free, hash(1), 1, [2]uint64{1, 1})
	if err := tb.CheckInvariants(hash, 1, 0); err != nil {
		t.Fatal(err)
	}
	mustCatch := func(what, want string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: CheckInvariants = %v, want an error containing %q", what, err, want)
		}
	}
	mustCatch("wrong live count", "owner says", tb.CheckInvariants(hash, 2, 0))
	grp, s := tb.slotWords(free)
	grp[s] = 2 // a key whose hash has another tag
	mustCatch("misplaced key", "hashes to tag", tb.CheckInvariants(hash, 1, 0))
	// Seven keys in the one group of a spare table: no free slot.
	same := func(uint64) uint64 { return 0 }
	for i := range SlotsPerGroup {
		grp[flatHeader+i*tb.sw] = uint64(i)
	}
	grp[0] = 0x0080808080808080 // seven tags 0
	mustCatch("full spare group", "no free slot", tb.CheckInvariants(same, 7, 0))
	grp[0] = 1 << 56
	mustCatch("byte 7", "byte 7", tb.CheckInvariants(same, 0, 0))
}

func ExampleFlat() {
	hr := MakeHasher[uint64](nil, 0)
	hash := hr.Hash
	t := NewFlat[uint64, [3]uint64](1)
	_, _, free, _ := t.Locate(hash(1), 1)
	t.Insert(free, hash(1), 1, [3]uint64{1, 2, 3})
	pos, _, _, _ := t.Locate(hash(1), 1)
	t.Replace(pos, 1, [3]uint64{4, 5, 6})
	fmt.Println(t.Find(hash(1), 1))
	// Output: [4 5 6] true
}
