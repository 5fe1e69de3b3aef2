//go:build segmap_invariants

package cmap

// invariants is set by the build tag segmap_invariants: the write engine
// then checks the invariants of the segment it wrote at the end of every
// write, and every rebuild checks the table it built (invariants.go).
const invariants = true
