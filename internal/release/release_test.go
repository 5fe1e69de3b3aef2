package release

import (
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// TestInt64Layout checks what the conversions of StoreInt64 and
// StoreUint64 rely on: atomic.Int64 and atomic.Uint64 are one 8-byte,
// 8-byte-aligned word at their own address, which the Store functions
// write and Load reads, and which Load's and Store's word is.
func TestInt64Layout(t *testing.T) {
	var x struct {
		pad byte
		i   atomic.Int64
		u   atomic.Uint64
	}
	if si, su := unsafe.Sizeof(x.i), unsafe.Sizeof(x.u); si != 8 || su != 8 {
		t.Fatalf("unsafe.Sizeof: atomic.Int64 %d, atomic.Uint64 %d bytes, want 8", si, su)
	}
	if ai, au := uintptr(unsafe.Pointer(&x.i)), uintptr(unsafe.Pointer(&x.u)); ai%8 != 0 || au%8 != 0 {
		t.Fatalf("atomic.Int64 at %#x, atomic.Uint64 at %#x: not 8-byte aligned", ai, au)
	}
	for _, v := range []uint64{1, 1 << 63, ^uint64(0), 0x0123456789ABCDEF} {
		StoreInt64(&x.i, int64(v))
		StoreUint64(&x.u, v)
		if gi, gu := x.i.Load(), x.u.Load(); gi != int64(v) || gu != v {
			t.Fatalf("StoreInt64 and StoreUint64 of %#x: Load returns %#x and %#x", v, gi, gu)
		}
		x.i.Store(int64(v - 1))
		x.u.Store(v - 1)
		if gi, gu := *(*int64)(unsafe.Pointer(&x.i)), *(*uint64)(unsafe.Pointer(&x.u)); gi != int64(v-1) || gu != v-1 {
			t.Fatalf("Store of %#x: the words at the atomics' addresses hold %#x and %#x", v-1, gi, gu)
		}
	}
	if x.pad != 0 {
		t.Fatalf("a store wrote outside the atomics: pad = %d", x.pad)
	}
}

// TestStoreWritesOneWord checks that Store writes its word and no other,
// with every bit pattern of a word's bytes.
func TestStoreWritesOneWord(t *testing.T) {
	var w [3]uint64
	for _, v := range []uint64{0, 1, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF, 0x0123456789ABCDEF} {
		w = [3]uint64{0xAAAAAAAAAAAAAAAA, 0, 0x5555555555555555}
		Store(&w[1], v)
		if w != [3]uint64{0xAAAAAAAAAAAAAAAA, v, 0x5555555555555555} {
			t.Fatalf("Store(%#x): words %#x", v, w)
		}
	}
}

// TestStorePublishes is the message-passing pattern Store is for: a
// writer fills a record, then publishes it with Store; a reader that
// loads the published word atomically must see the record's contents.
// With the race detector off (where Store is the MOV of store_amd64.s)
// it checks the hardware ordering; with it on, that the detector sees
// the publication as an atomic store (else it reports the record's
// plain reads as racing with its plain writes).
func TestStorePublishes(t *testing.T) {
	const rounds = 20000
	type record struct{ a, b uint64 }
	recs := make([]record, rounds)
	var pub uint64 // index+1 of the last published record
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range recs {
			recs[i] = record{uint64(i) * 3, uint64(i) * 7}
			Store(&pub, uint64(i+1))
		}
	}()
	for seen := uint64(0); seen < rounds; {
		p := atomic.LoadUint64(&pub)
		if p == 0 {
			continue
		}
		r := recs[p-1]
		if r.a != (p-1)*3 || r.b != (p-1)*7 {
			t.Fatalf("record %d read as %+v after its publication", p-1, r)
		}
		seen = p
	}
	wg.Wait()
}
