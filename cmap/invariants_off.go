//go:build !segmap_invariants

package cmap

// invariants is unset without the build tag segmap_invariants: every
// "if invariants" block is dead code, which the compiler drops, so the
// checks cost nothing (invariants.go).
const invariants = false
