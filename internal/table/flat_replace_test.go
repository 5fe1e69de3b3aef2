package table

import (
	"math"
	"testing"
)

// zeroKey has two float words that flip between -0 and +0 (equal keys
// with other bits) beside a plain word.
type zeroKey struct {
	a  float64
	id uint64
	b  float64
}

// TestFlatReplaceKeyBitsUnderReaders: an in-place Replace stores the
// written key's bits word by word (see Replace); a reader that runs
// between any two of those stores, or between the last and the value's
// store, finds the key under either form, with the old value. The reader
// runs inside flatReplaceKeyHook, so it meets the writer at each of those
// instants rather than by chance. A Replace that first spoils a key word
// (a junk store before the right one) is caught there.
func TestFlatReplaceKeyBitsUnderReaders(t *testing.T) {
	neg := math.Copysign(0, -1)
	forms := []zeroKey{{neg, 7, neg}, {0, 7, 0}, {neg, 7, 0}, {0, 7, neg}}
	tb := NewFlat[zeroKey, uint64](1)
	_, _, free, _ := tb.Locate(0, forms[0])
	tb.Insert(free, 0, forms[0], 1)
	stops := 0
	var want uint64 = 1
	flatReplaceKeyHook = func() {
		stops++
		for _, k := range forms {
			if v, ok := tb.Find(0, k); !ok || v != want {
				t.Errorf("stop %d: Find(%v) = (%d, %t) mid-Replace, want (%d, true)", stops, k, v, ok, want)
			}
		}
	}
	defer func() { flatReplaceKeyHook = nil }()
	for i, k := range []zeroKey{forms[1], forms[0], forms[2], forms[3], forms[1]} {
		pos, found, _, _ := tb.Locate(0, k)
		if !found {
			t.Fatalf("step %d: key %v not found", i, k)
		}
		if np := tb.Replace(pos, k, uint64(i+2)); np != pos {
			t.Fatalf("step %d: a one-word value moved from slot %d to %d", i, pos, np)
		}
		want = uint64(i + 2)
		if got, _ := tb.At(pos); math.Signbit(got.a) != math.Signbit(k.a) || math.Signbit(got.b) != math.Signbit(k.b) {
			t.Fatalf("step %d: slot holds %v, want the written key's bits %v", i, got, k)
		}
	}
	// -0/+0 over +0/-0 flips 2 words, then 2, 1, 2, 1: 8 stops.
	if stops != 8 {
		t.Fatalf("the hook ran %d times, want 8 (one per key word stored)", stops)
	}
}
