package cmap_test

import (
	"fmt"
	"slices"

	"github.com/segmap/segmap/cmap"
	"github.com/segmap/segmap/snapshot"
)

// orderModel is the reference for a map with insertion order: a plain
// map plus the keys oldest first.
type orderModel[K comparable, V any] struct {
	m     map[K]V
	order []K // the keys of m, oldest first
	// ordered: whether the map under test keeps insertion order, so that
	// order is checked against it (settled checks order only then).
	ordered bool
}

// model is orderModel for the int maps of the panic-safety tests.
type model = orderModel[int, int]

func newOrderModel[K comparable, V any]() *orderModel[K, V] {
	return &orderModel[K, V]{m: map[K]V{}, ordered: true}
}

// remove deletes k, if present.
func (o *orderModel[K, V]) remove(k K) {
	if _, ok := o.m[k]; ok {
		delete(o.m, k)
		o.order = slices.DeleteFunc(o.order, func(x K) bool { return x == k })
	}
}

// store publishes v for k: k becomes the newest.
func (o *orderModel[K, V]) store(k K, v V) {
	o.remove(k)
	o.m[k] = v
	o.order = append(o.order, k)
}

// pairs returns the entries oldest first, each as "k=v".
func (o *orderModel[K, V]) pairs() []string {
	s := make([]string, len(o.order))
	for i, k := range o.order {
		s[i] = fmt.Sprintf("%v=%v", k, o.m[k])
	}
	return s
}

// inOrder returns s's entries oldest first, in the form of pairs.
func inOrder[K comparable, V any](s *snapshot.Snapshot[K, V]) []string {
	var out []string
	for k, v := range s.InOrder() {
		out = append(out, fmt.Sprintf("%v=%v", k, v))
	}
	return out
}

// fuzzModel is FuzzMap's model: the contents, the insertion order (oldest
// first: a write that publishes a value moves its key last), the bound
// and the evictions it implies.
type fuzzModel struct {
	m       map[uint16]int
	order   []uint16 // the keys of m, oldest first
	policy  cmap.BoundPolicy
	ordered bool     // the order operations are among the opcodes
	evicted [][2]int // the evictions, in order
}

func newFuzzModel(mode uint8) *fuzzModel {
	md := &fuzzModel{m: map[uint16]int{}, ordered: mode&modeOrderOps != 0}
	switch mode & (modeEvict | modeReject) {
	case modeEvict:
		md.policy, md.ordered = cmap.EvictOldest, true
	case modeReject:
		md.policy = cmap.RejectNew
	}
	return md
}

// full reports whether inserting k would exceed the bound.
func (md *fuzzModel) full(k uint16) bool {
	_, ok := md.m[k]
	return md.policy != 0 && !ok && len(md.m) >= fuzzBound
}

// put publishes v under k, evicting the oldest entry first if the map is
// full and bounded with EvictOldest.
func (md *fuzzModel) put(k uint16, v int) {
	if md.full(k) && md.policy == cmap.EvictOldest {
		ok, ov, _ := md.oldest()
		md.evicted = append(md.evicted, [2]int{int(ok), ov})
		md.del(ok)
	}
	md.del(k)
	md.m[k] = v
	md.order = append(md.order, k)
}

func (md *fuzzModel) del(k uint16) {
	delete(md.m, k)
	if i := slices.Index(md.order, k); i >= 0 {
		md.order = slices.Delete(md.order, i, i+1)
	}
}

func (md *fuzzModel) clear() {
	clear(md.m)
	md.order = md.order[:0]
}

func (md *fuzzModel) oldest() (uint16, int, bool) {
	if len(md.order) == 0 {
		return 0, 0, false
	}
	return md.order[0], md.m[md.order[0]], true
}

func (md *fuzzModel) newest() (uint16, int, bool) {
	if len(md.order) == 0 {
		return 0, 0, false
	}
	k := md.order[len(md.order)-1]
	return k, md.m[k], true
}
