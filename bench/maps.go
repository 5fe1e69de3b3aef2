package main

import (
	"slices"
	"sort"
	"strings"
	"sync"

	xsyncv3 "github.com/puzpuzpuz/xsync/v3"
	xsyncv4 "github.com/puzpuzpuz/xsync/v4"
)

// benchMap is the one interface every map is driven through: the same
// dynamic call for every implementation, so the harness cost is identical.
// Values are uint64 everywhere.
type benchMap[K comparable] interface {
	Load(K) (uint64, bool)
	Store(K, uint64)
	Delete(K)
}

// oneSegmenter is implemented by maps that can be built with a single
// segment (cmap); the contend-1seg workload uses it.
type oneSegmenter[K comparable] interface {
	oneSegment() benchMap[K]
}

// newMapFor returns an empty map of im for workload w: with one segment
// where w asks for it and im has segments.
func newMapFor[K comparable](im *impl, w *workload) benchMap[K] {
	m := newMapOf[K](im)
	if s, ok := m.(oneSegmenter[K]); ok && w.oneSegment {
		return s.oneSegment()
	}
	return m
}

// snapshotter is implemented by maps that can take a point-in-time
// snapshot (cmap). The result is only kept alive, never inspected.
type snapshotter interface {
	snapshot() any
}

// describer is implemented by maps that can describe their layout
// (cmap: its Stats); the memory table prints it under the figures.
type describer interface {
	describe() string
}

// impl is one registered map implementation.
type impl struct {
	id    string // flag and CSV name, e.g. "xsync4"
	label string // table name, e.g. "xsync v4 Map"
	order int    // position in tables: cmap first, the floor last

	// ours marks cmap: the map compared against the best peer.
	ours bool
	// floor marks the built-in map without a lock: it is run from one
	// goroutine only, as the floor no concurrent map can beat, and is not
	// a peer.
	floor bool
	// snaps marks maps that implement snapshotter (cmap).
	snaps bool
	// ref marks a variant of cmap shown beside it for reference (cmap
	// with the entry layout): not a peer, and not in -maps all.
	ref bool

	u64 func() benchMap[uint64]
	str func() benchMap[string]
}

func (im *impl) snapshots() bool { return im.snaps }

// peer reports whether im counts when picking the best peer of cmap.
func (im *impl) peer() bool { return !im.ours && !im.floor && !im.ref }

// newMapOf returns an empty map of im with key type K (uint64 or string).
func newMapOf[K comparable](im *impl) benchMap[K] {
	var zero K
	switch any(zero).(type) {
	case uint64:
		return any(im.u64()).(benchMap[K])
	case string:
		return any(im.str()).(benchMap[K])
	}
	panic("bench: unsupported key type")
}

var registry []*impl

// register adds an implementation; map_cmap.go registers cmap from init.
func register(im *impl) {
	registry = append(registry, im)
	sort.SliceStable(registry, func(i, j int) bool { return registry[i].order < registry[j].order })
}

// lookupImpl returns the implementation with the given id (case-insensitive).
func lookupImpl(id string) *impl {
	for _, im := range registry {
		if strings.EqualFold(im.id, id) {
			return im
		}
	}
	return nil
}

func implIDs() []string {
	ids := make([]string, len(registry))
	for i, im := range registry {
		ids[i] = im.id
	}
	return ids
}

func init() {
	register(&impl{id: "syncmap", label: "sync.Map", order: 10,
		u64: newSyncMap[uint64], str: newSyncMap[string]})
	register(&impl{id: "xsync3", label: "xsync v3 MapOf", order: 20,
		u64: newXsync3[uint64], str: newXsync3[string]})
	register(&impl{id: "xsync4", label: "xsync v4 Map", order: 30,
		u64: newXsync4[uint64], str: newXsync4[string]})
	register(&impl{id: "rwmap", label: "map+RWMutex", order: 40,
		u64: newRWMap[uint64], str: newRWMap[string]})
	register(&impl{id: "map", label: "map, 1 goroutine (floor)", order: 50, floor: true,
		u64: newPlainMap[uint64], str: newPlainMap[string]})
}

// sync.Map: values and keys go through interfaces, as its users pay.
type syncMap[K comparable] struct{ m sync.Map }

func newSyncMap[K comparable]() benchMap[K] { return &syncMap[K]{} }

func (s *syncMap[K]) Load(k K) (uint64, bool) {
	v, ok := s.m.Load(k)
	if !ok {
		return 0, false
	}
	return v.(uint64), true
}
func (s *syncMap[K]) Store(k K, v uint64) { s.m.Store(k, v) }
func (s *syncMap[K]) Delete(k K)          { s.m.Delete(k) }

// xsync v3 MapOf with its default options (no presize).
type xsync3[K comparable] struct{ m *xsyncv3.MapOf[K, uint64] }

func newXsync3[K comparable]() benchMap[K] {
	return xsync3[K]{m: xsyncv3.NewMapOf[K, uint64]()}
}

func (x xsync3[K]) Load(k K) (uint64, bool) { return x.m.Load(k) }
func (x xsync3[K]) Store(k K, v uint64)     { x.m.Store(k, v) }
func (x xsync3[K]) Delete(k K)              { x.m.Delete(k) }

// xsync v4 Map with its default options (no presize).
type xsync4[K comparable] struct{ m *xsyncv4.Map[K, uint64] }

func newXsync4[K comparable]() benchMap[K] {
	return xsync4[K]{m: xsyncv4.NewMap[K, uint64]()}
}

func (x xsync4[K]) Load(k K) (uint64, bool) { return x.m.Load(k) }
func (x xsync4[K]) Store(k K, v uint64)     { x.m.Store(k, v) }
func (x xsync4[K]) Delete(k K)              { x.m.Delete(k) }

// rwMap is the map a Go programmer writes first: one RWMutex around a
// built-in map.
type rwMap[K comparable] struct {
	mu sync.RWMutex
	m  map[K]uint64
}

func newRWMap[K comparable]() benchMap[K] { return &rwMap[K]{m: make(map[K]uint64)} }

func (r *rwMap[K]) Load(k K) (uint64, bool) {
	r.mu.RLock()
	v, ok := r.m[k]
	r.mu.RUnlock()
	return v, ok
}

func (r *rwMap[K]) Store(k K, v uint64) {
	r.mu.Lock()
	r.m[k] = v
	r.mu.Unlock()
}

func (r *rwMap[K]) Delete(k K) {
	r.mu.Lock()
	delete(r.m, k)
	r.mu.Unlock()
}

// plainMap is the built-in map with no lock: the floor, used from one
// goroutine only.
type plainMap[K comparable] struct{ m map[K]uint64 }

func newPlainMap[K comparable]() benchMap[K] { return plainMap[K]{m: make(map[K]uint64)} }

func (p plainMap[K]) Load(k K) (uint64, bool) { v, ok := p.m[k]; return v, ok }
func (p plainMap[K]) Store(k K, v uint64)     { p.m[k] = v }
func (p plainMap[K]) Delete(k K)              { delete(p.m, k) }

// nopMap does nothing: running a workload on it measures the harness
// alone (PRNG, key fetch, interface call).
type nopMap[K comparable] struct{}

func (nopMap[K]) Load(K) (uint64, bool) { return 0, false }
func (nopMap[K]) Store(K, uint64)       {}
func (nopMap[K]) Delete(K)              {}

// selectImpls resolves a comma list of ids ("all" for every one).
func selectImpls(list string) ([]*impl, error) {
	if strings.TrimSpace(list) == "all" {
		return slices.DeleteFunc(slices.Clone(registry), func(im *impl) bool { return im.ref }), nil
	}
	var out []*impl
	for _, id := range splitList(list) {
		im := lookupImpl(id)
		if im == nil {
			return nil, usageError("unknown map %q; valid maps: %s (or all)", id, strings.Join(implIDs(), ", "))
		}
		if !slices.Contains(out, im) {
			out = append(out, im)
		}
	}
	if len(out) == 0 {
		return nil, usageError("-maps: no map given; valid maps: %s (or all)", strings.Join(implIDs(), ", "))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out, nil
}
