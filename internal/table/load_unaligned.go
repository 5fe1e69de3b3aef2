//go:build amd64 || arm64 || 386 || ppc64le || s390x

package table

import "unsafe"

// load64 and load32 return the word (and half-word) of the 8 (4) bytes
// at p, which must lie in one allocation, in the machine's byte order. On
// these architectures an unaligned load is one instruction
// (load_aligned.go assembles the bytes elsewhere). The byte order is not
// seen by keyWords' users: they compare and hash words, never bytes.
func load64[W word](p unsafe.Pointer) W { return W(*(*uint64)(p)) }

func load32[W word](p unsafe.Pointer) W { return W(*(*uint32)(p)) }
