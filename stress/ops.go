package stress

import (
	"fmt"
	"math/rand/v2"
)

// insertAbsent stores v under k, which the caller owns and knows to be
// absent, through one of Store, LoadOrStore and Swap chosen by rng. It
// returns a description of any result inconsistent with k being absent, or
// "".
func insertAbsent(m Map, rng *rand.Rand, k, v uint64) string {
	switch rng.IntN(3) {
	case 0:
		m.Store(k, v)
	case 1:
		if a, loaded := m.LoadOrStore(k, v); loaded || a != v {
			return fmt.Sprintf("LoadOrStore(%d, %#x) = (%#x, %t) on an absent key, want (%#x, false)", k, v, a, loaded, v)
		}
	default:
		if p, loaded := m.Swap(k, v); loaded || p != 0 {
			return fmt.Sprintf("Swap(%d, %#x) = (%#x, %t) on an absent key, want (0, false)", k, v, p, loaded)
		}
	}
	return ""
}

// deletePresent deletes k, which the caller owns and knows to hold v,
// through one of Delete, LoadAndDelete and CompareAndDelete chosen by rng.
// It returns a description of any result inconsistent with k holding v, or
// "".
func deletePresent(m Map, rng *rand.Rand, k, v uint64) string {
	switch rng.IntN(3) {
	case 0:
		m.Delete(k)
	case 1:
		if p, loaded := m.LoadAndDelete(k); !loaded || p != v {
			return fmt.Sprintf("LoadAndDelete(%d) = (%#x, %t), want (%#x, true)", k, p, loaded, v)
		}
	default:
		if !m.CompareAndDelete(k, v) {
			return fmt.Sprintf("CompareAndDelete(%d, %#x) = false on a key holding %#x, want true", k, v, v)
		}
	}
	return ""
}

// rewritePresent overwrites k, which the caller owns and knows to hold v,
// with v itself, through one of Store, Swap, CompareAndSwap and LoadOrStore
// chosen by rng: a write that changes nothing a reader may see, yet goes
// through the map's write path. It returns a description of any result
// inconsistent with k holding v, or "".
func rewritePresent(m Map, rng *rand.Rand, k, v uint64) string {
	switch rng.IntN(4) {
	case 0:
		m.Store(k, v)
	case 1:
		if p, loaded := m.Swap(k, v); !loaded || p != v {
			return fmt.Sprintf("Swap(%d, %#x) = (%#x, %t) on a key holding %#x, want (%#x, true)", k, v, p, loaded, v, v)
		}
	case 2:
		if !m.CompareAndSwap(k, v, v) {
			return fmt.Sprintf("CompareAndSwap(%d, %#x, %#x) = false on a key holding %#x, want true", k, v, v, v)
		}
	default:
		if a, loaded := m.LoadOrStore(k, v^1); !loaded || a != v {
			return fmt.Sprintf("LoadOrStore(%d, %#x) = (%#x, %t) on a key holding %#x, want (%#x, true)", k, v^1, a, loaded, v, v)
		}
	}
	return ""
}

// rangeOnce ranges over m once, checking what no Range may do: visit a key
// twice, or report a value that does not belong to its key (see belongs).
// It returns the keys and values visited, or a description of the first
// violation.
func rangeOnce(m Map) (map[uint64]uint64, string) {
	seen := make(map[uint64]uint64)
	var bad string
	m.Range(func(k, v uint64) bool {
		if old, dup := seen[k]; dup {
			bad = fmt.Sprintf("Range visited key %d twice in one call (values %#x and %#x)", k, old, v)
			return false
		}
		if !belongs(k, v) {
			bad = fmt.Sprintf("Range visited key %d with value %#x, which was never stored under it", k, v)
			return false
		}
		seen[k] = v
		return true
	})
	return seen, bad
}
