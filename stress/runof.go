package stress

import (
	"testing"
)

// MapOf is the method set of [sync.Map] typed for keys K and values V: the
// maps that [RunOf] drives.
type MapOf[K, V comparable] interface {
	Load(key K) (value V, ok bool)
	Store(key K, value V)
	LoadOrStore(key K, value V) (actual V, loaded bool)
	LoadAndDelete(key K) (value V, loaded bool)
	Delete(key K)
	Swap(key K, value V) (previous V, loaded bool)
	CompareAndSwap(key K, old, new V) (swapped bool)
	CompareAndDelete(key K, old V) (deleted bool)
	Range(f func(key K, value V) bool)
}

// Codec maps the harness's uint64 keys or values to a type T and back:
// From(To(x)) must be x for every x, and To must be one-to-one. Scenarios
// encode what they check in the bits of their keys and values, so a codec
// must keep all 64 of them.
type Codec[T any] struct {
	To   func(x uint64) T
	From func(t T) uint64
}

// RunOf is [Run] for maps of other key and value types: each scenario's
// uint64 keys and values go through keys and values on their way in and
// out, and the map's Clear and DeleteFunc, if it has them, are checked
// too. The codecs hold
// no state, so they add no synchronization that could hide a race.
func RunOf[K, V comparable](t *testing.T, newMap func() MapOf[K, V], keys Codec[K], values Codec[V], opts Options) {
	t.Helper()
	if newMap == nil || keys.To == nil || keys.From == nil || values.To == nil || values.From == nil {
		t.Fatal("stress: RunOf: newMap or a codec function is nil")
	}
	Run(t, func() Map {
		m := ofMap[K, V]{newMap(), keys, values}
		c, hasClear := m.m.(clearer)
		d, hasDeleteFunc := m.m.(deleteFuncerOf[K, V])
		switch {
		case hasClear && hasDeleteFunc:
			return ofMapClearDeleteFunc[K, V]{ofMapClear[K, V]{m, c}, d}
		case hasClear:
			return ofMapClear[K, V]{m, c}
		case hasDeleteFunc:
			return ofMapDeleteFunc[K, V]{m, d}
		}
		return m
	}, opts)
}

// deleteFuncerOf is a MapOf with DeleteFunc (see deleteFuncer).
type deleteFuncerOf[K, V comparable] interface {
	DeleteFunc(del func(key K, value V) bool) int
}

// ofMapDeleteFunc is an ofMap over a map with DeleteFunc.
type ofMapDeleteFunc[K, V comparable] struct {
	ofMap[K, V]
	d deleteFuncerOf[K, V]
}

func (o ofMapDeleteFunc[K, V]) DeleteFunc(del func(k, v uint64) bool) int {
	return o.d.DeleteFunc(func(k K, v V) bool { return del(o.keys.From(k), o.values.From(v)) })
}

// ofMapClearDeleteFunc is an ofMap over a map with Clear and DeleteFunc.
type ofMapClearDeleteFunc[K, V comparable] struct {
	ofMapClear[K, V]
	d deleteFuncerOf[K, V]
}

func (o ofMapClearDeleteFunc[K, V]) DeleteFunc(del func(k, v uint64) bool) int {
	return o.d.DeleteFunc(func(k K, v V) bool { return del(o.keys.From(k), o.values.From(v)) })
}

// ofMap is a Map over a MapOf, through codecs.
type ofMap[K, V comparable] struct {
	m      MapOf[K, V]
	keys   Codec[K]
	values Codec[V]
}

// ofMapClear is an ofMap over a map with Clear.
type ofMapClear[K, V comparable] struct {
	ofMap[K, V]
	c clearer
}

func (o ofMapClear[K, V]) Clear() { o.c.Clear() }

// out converts a result: (0, false) for a miss with the zero value, and a
// miss with any other value as (1, false), which the scenarios report.
func (o ofMap[K, V]) out(v V, ok bool) (uint64, bool) {
	var zero V
	switch {
	case ok:
		return o.values.From(v), true
	case v != zero:
		return 1, false
	}
	return 0, false
}

func (o ofMap[K, V]) Load(k uint64) (uint64, bool) { return o.out(o.m.Load(o.keys.To(k))) }
func (o ofMap[K, V]) Store(k, v uint64)            { o.m.Store(o.keys.To(k), o.values.To(v)) }
func (o ofMap[K, V]) Delete(k uint64)              { o.m.Delete(o.keys.To(k)) }

func (o ofMap[K, V]) LoadOrStore(k, v uint64) (uint64, bool) {
	a, loaded := o.m.LoadOrStore(o.keys.To(k), o.values.To(v))
	return o.values.From(a), loaded
}

func (o ofMap[K, V]) LoadAndDelete(k uint64) (uint64, bool) {
	return o.out(o.m.LoadAndDelete(o.keys.To(k)))
}

func (o ofMap[K, V]) Swap(k, v uint64) (uint64, bool) {
	return o.out(o.m.Swap(o.keys.To(k), o.values.To(v)))
}

func (o ofMap[K, V]) CompareAndSwap(k, old, new uint64) bool {
	return o.m.CompareAndSwap(o.keys.To(k), o.values.To(old), o.values.To(new))
}

func (o ofMap[K, V]) CompareAndDelete(k, old uint64) bool {
	return o.m.CompareAndDelete(o.keys.To(k), o.values.To(old))
}

func (o ofMap[K, V]) Range(f func(k, v uint64) bool) {
	o.m.Range(func(k K, v V) bool { return f(o.keys.From(k), o.values.From(v)) })
}
