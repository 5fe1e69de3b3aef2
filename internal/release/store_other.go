//go:build !amd64 || race

package release

import "sync/atomic"

// Store stores v at p, an aligned word that readers load atomically and
// that only the caller, holding a lock, writes: atomic.StoreUint64 (see
// the package comment).
func Store(p *uint64, v uint64) { atomic.StoreUint64(p, v) }
