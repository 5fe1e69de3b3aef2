package release

import (
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"
)

// TestInt64Layout checks what the conversions of StoreInt64 and
// StoreUint64 rely on: atomic.Int64 and atomic.Uint64 are one 8-byte word
// at their own address.
func TestInt64Layout(t *testing.T) {
	var x struct {
		pad byte
		n   atomic.Int64
	}
	if s := unsafe.Sizeof(x.n); s != 8 {
		t.Fatalf("unsafe.Sizeof(atomic.Int64{}) = %d, want 8", s)
	}
	if a := uintptr(unsafe.Pointer(&x.n)); a%8 != 0 {
		t.Fatalf("atomic.Int64 at %#x: not 8-byte aligned", a)
	}
	for _, v := range []int64{1, -1, 1 << 62, -1 << 63} {
		StoreInt64(&x.n, v)
		if got := x.n.Load(); got != v {
			t.Fatalf("StoreInt64(%d): Load returns %d", v, got)
		}
		x.n.Store(v - 1)
		if got := *(*int64)(unsafe.Pointer(&x.n)); got != v-1 {
			t.Fatalf("Store(%d): the word at the Int64's address holds %d", v-1, got)
		}
	}
	if x.pad != 0 {
		t.Fatalf("StoreInt64 wrote outside the Int64: pad = %d", x.pad)
	}
	var y struct {
		pad byte
		n   atomic.Uint64
	}
	if s := unsafe.Sizeof(y.n); s != 8 {
		t.Fatalf("unsafe.Sizeof(atomic.Uint64{}) = %d, want 8", s)
	}
	if a := uintptr(unsafe.Pointer(&y.n)); a%8 != 0 {
		t.Fatalf("atomic.Uint64 at %#x: not 8-byte aligned", a)
	}
	for _, v := range []uint64{1, 1 << 63, ^uint64(0)} {
		StoreUint64(&y.n, v)
		if got := y.n.Load(); got != v {
			t.Fatalf("StoreUint64(%#x): Load returns %#x", v, got)
		}
	}
	if y.pad != 0 {
		t.Fatalf("StoreUint64 wrote outside the Uint64: pad = %d", y.pad)
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
