package cmap

// CallWaiters returns the number of callers that joined the LoadOrCompute
// call in flight for key, without calling f, or -1 if no call is in flight
// for key.
func (m *Map[K, V]) CallWaiters(key K) int {
	st := m.state()
	_, i := st.seg(st.hasher.Hash(key))
	st.mus[i].Lock()
	defer st.mus[i].Unlock()
	if c := st.callsLocked(i)[key]; c != nil {
		return c.waiters
	}
	return -1
}
