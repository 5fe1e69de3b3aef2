package table

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestKeyWordsIdentifyTheKey checks the property that cmap's Load relies
// on when it compares a short key with a record by their words: two
// strings of one length of at most 16 bytes have equal keyWords only if
// they are equal. Every byte of every length is changed alone (a
// keyWords that skips a byte fails here), and KeyWords, the inlined form
// for 4 to 16 bytes, must agree with keyWords.
func TestKeyWordsIdentifyTheKey(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 16; n++ {
		for range 50 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			s := string(b)
			a0, b0 := keyWords(s)
			if n >= 4 {
				if a1, b1 := KeyWords(s); a1 != a0 || b1 != b0 {
					t.Fatalf("len %d: KeyWords(%q) = %#x, %#x; keyWords = %#x, %#x", n, s, a1, b1, a0, b0)
				}
			}
			for i := range b {
				c := append([]byte(nil), b...)
				c[i] ^= byte(1 + r.IntN(255))
				if a1, b1 := keyWords(string(c)); a1 == a0 && b1 == b0 {
					t.Fatalf("len %d: %q and %q, which differ in byte %d, have the same words %#x, %#x", n, s, c, i, a0, b0)
				}
			}
		}
	}
}

// TestStringHash checks the string keys' hash: Hash is strMix of the
// key's words for keys of at most 16 bytes (the hash cmap's Load computes
// inline must be the one every write used), maphash.String beyond; keys
// that differ only in length (NUL padding) hash apart; and sequential
// keys, the usual worst case of a weak hash, spread over the bits that
// pick the segment (top), the group (bottom), the tag (32..38) and the
// check (40..55) with no full-hash collision.
func TestStringHash(t *testing.T) {
	h := MakeHasher[string](nil, 0)
	if !h.ShortStr() {
		t.Fatal("ShortStr is false for string keys with no user hasher")
	}
	type myString string
	if hm := MakeHasher[myString](nil, 0); !hm.ShortStr() {
		t.Fatal("ShortStr is false for a defined string type")
	}
	if hu := MakeHasher(func(uint64, string) uint64 { return 1 }, 0); hu.ShortStr() {
		t.Fatal("ShortStr is true with a user hasher")
	}
	for n := 0; n <= 40; n++ {
		s := strings.Repeat("k", n)
		want := maphash.String(h.mseed, s)
		if n <= 16 {
			a, b := keyWords(s)
			want = strMix(h.seed, a, b, uint64(n))
			if n >= 4 {
				if got := h.StrMix(a, b, uint64(n)); got != want {
					t.Fatalf("len %d: StrMix = %#x, want %#x", n, got, want)
				}
			}
		}
		if got := h.Hash(s); got != want {
			t.Fatalf("len %d: Hash = %#x, want %#x", n, got, want)
		}
	}
	seen := map[uint64]string{}
	for n := 0; n <= 16; n++ {
		s := strings.Repeat("\x00", n)
		if o, dup := seen[h.Hash(s)]; dup {
			t.Fatalf("%q and %q (NUL bytes) hash alike", s, o)
		}
		seen[h.Hash(s)] = s
	}

	const keys = 1 << 16
	const buckets = 64
	var top, low, tag, check [buckets]int
	for i := range keys {
		s := "key-" + strconv.Itoa(i) // 5 to 9 bytes
		if i&1 == 1 {
			s = "user:" + strconv.Itoa(i*7919) + "-x" // up to 16 bytes
		}
		x := h.Hash(s)
		if o, dup := seen[x]; dup {
			t.Fatalf("%q and %q hash alike: %#x", s, o, x)
		}
		seen[x] = s
		top[x>>58]++
		low[x%buckets]++
		tag[x>>32&(buckets-1)]++
		check[x>>48&(buckets-1)]++
	}
	for name, c := range map[string]*[buckets]int{"top": &top, "low": &low, "tag": &tag, "check": &check} {
		// chi-square with 63 degrees of freedom: its 99.99th percentile
		// is about 120; a hash that ignores a key byte or leaves a bit
		// range constant is far beyond it.
		chi := 0.0
		for _, v := range c {
			d := float64(v) - keys/buckets
			chi += d * d / (keys / buckets)
		}
		if chi > 130 {
			t.Errorf("%s bits of the string hash are uneven: chi-square %.0f over %d buckets", name, chi, buckets)
		}
	}
	// Each input bit of an 8-byte key flips about half of the output bits
	// (avalanche), averaged over keys.
	for bit := range 64 {
		flips := 0
		for i := range 64 {
			b := []byte("abcdefgh")
			b[0] += byte(i)
			s0 := string(b)
			b[bit/8] ^= 1 << (bit % 8)
			flips += bits.OnesCount64(h.Hash(s0) ^ h.Hash(string(b)))
		}
		if avg := float64(flips) / 64; avg < 24 || avg > 40 {
			t.Errorf("flipping key bit %d flips %.1f hash bits on average, want about 32", bit, avg)
		}
	}
}
