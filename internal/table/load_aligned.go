//go:build !(amd64 || arm64 || 386 || ppc64le || s390x)

package table

import "unsafe"

// load64 and load32: see load_unaligned.go. Here an unaligned load may fault
// or trap, so the word is assembled from its bytes.
func load64[W word](p unsafe.Pointer) W {
	q := (*[8]byte)(p)
	return W(q[0]) | W(q[1])<<8 | W(q[2])<<16 | W(q[3])<<24 |
		W(q[4])<<32 | W(q[5])<<40 | W(q[6])<<48 | W(q[7])<<56
}

func load32[W word](p unsafe.Pointer) W {
	q := (*[4]byte)(p)
	return W(q[0]) | W(q[1])<<8 | W(q[2])<<16 | W(q[3])<<24
}
