package stress

import (
	"fmt"
	"sync/atomic"
)

// LoadOrStore race: all goroutines contend for one key as a token. Each
// repeatedly calls LoadOrStore(k, a value of its own, new each time); the
// one whose call stores owns the token, and since only an owner deletes
// the key, it must then Load its own value back and take the key out with
// CompareAndDelete(k, its value). A LoadOrStore that loads and then
// stores, even with nothing in between, lets two goroutines both find the
// key absent and both store: one of them then finds the other's value, or
// fails to delete its own.

const losTries = 256 // LoadOrStore calls per goroutine per round

func loadOrStoreRace(s *state, newMap func() Map) {
	g := 4 * max(2, s.cfg.goroutines) // enough waiters to put a mutex in starvation mode, which hands it over at once
	round := uint64(0)
	var owned atomic.Int64
	defer func() {
		s.logf("%d rounds of %d goroutines contending for a key, %d times owned", round, g, owned.Load())
	}()
	for ; !s.expired() || round == 0; round++ {
		m := newMap()
		k := s.rng(round).Uint64()
		start := make(chan struct{})
		grp := s.group()
		for w := range g {
			grp.Go(func() {
				<-start
				for i := range losTries {
					took, bad := takeToken(m, k, valueFor(k, uint32(w+1)<<16|uint32(i)))
					if bad != "" {
						s.errorf("round %d, goroutine %d: %s", round, w, bad)
						return
					}
					if took {
						owned.Add(1)
					}
				}
			})
		}
		close(start)
		grp.Wait()
		if s.stopped() {
			return
		}
	}
}

// takeToken tries to take the token k with LoadOrStore(k, mine) and, if it
// did, gives it back; it reports whether it took it, and describes
// anything an owner should not see.
func takeToken(m Map, k, mine uint64) (took bool, bad string) {
	a, loaded := m.LoadOrStore(k, mine)
	switch {
	case loaded && !belongs(k, a):
		return false, fmt.Sprintf("LoadOrStore(%d, %#x) = (%#x, true), a value never stored", k, mine, a)
	case loaded:
		return false, ""
	case a != mine:
		return true, fmt.Sprintf("LoadOrStore(%d, %#x) = (%#x, false), want its own value", k, mine, a)
	}
	if v, ok := m.Load(k); !ok || v != mine {
		return true, fmt.Sprintf("LoadOrStore(%d, %#x) stored (loaded false), so only this goroutine may remove the key, yet Load = (%#x, %t): another LoadOrStore stored too",
			k, mine, v, ok)
	}
	if !m.CompareAndDelete(k, mine) {
		return true, fmt.Sprintf("LoadOrStore(%d, %#x) stored (loaded false), so only this goroutine may remove the key, yet CompareAndDelete(%d, %#x) = false: another LoadOrStore stored too",
			k, mine, k, mine)
	}
	return true, ""
}
