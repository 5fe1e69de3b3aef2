//go:build amd64 && !race

package release

// Store stores v at p, an aligned word that readers load atomically and
// that only the caller, holding a lock, writes: one MOV (see the package
// comment).
//
//go:noescape
func Store(p *uint64, v uint64)
