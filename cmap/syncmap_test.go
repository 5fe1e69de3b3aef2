package cmap_test

// Tests in the spirit of Go's own sync.Map suite (src/sync/map_test.go),
// run on cmap.Map[any, any], the drop-in use: quick-checked agreement with
// a mutex-guarded map, nested Range with writes, collection of deleted
// keys, allocation-free Range, concurrent Clear.

import (
	"math/rand"
	"reflect"
	"sync"
	"testing"
	"testing/quick"

	"github.com/segmap/segmap/cmap"
)

type anyMap interface {
	Load(key any) (any, bool)
	Store(key, value any)
	LoadOrStore(key, value any) (any, bool)
	LoadAndDelete(key any) (any, bool)
	Delete(key any)
	Swap(key, value any) (any, bool)
	CompareAndSwap(key, old, new any) bool
	CompareAndDelete(key, old any) bool
	Range(f func(key, value any) bool)
	Clear()
}

var _ anyMap = (*cmap.Map[any, any])(nil)
var _ anyMap = (*sync.Map)(nil)

type call struct {
	op   int
	k, v any
}

func (call) Generate(r *rand.Rand, _ int) reflect.Value {
	rv := func() any {
		b := make([]byte, r.Intn(3))
		for i := range b {
			b[i] = 'a' + byte(r.Intn(4))
		}
		return string(b)
	}
	return reflect.ValueOf(call{op: r.Intn(9), k: rv(), v: rv()})
}

func (c call) apply(m anyMap) (any, bool) {
	switch c.op {
	case 0:
		return m.Load(c.k)
	case 1:
		m.Store(c.k, c.v)
		return nil, false
	case 2:
		return m.LoadOrStore(c.k, c.v)
	case 3:
		return m.LoadAndDelete(c.k)
	case 4:
		m.Delete(c.k)
		return nil, false
	case 5:
		return m.Swap(c.k, c.v)
	case 6:
		return nil, m.CompareAndSwap(c.k, c.v, "new")
	case 7:
		return nil, m.CompareAndDelete(c.k, c.v)
	default:
		m.Clear()
		return nil, false
	}
}

func apply(m anyMap, calls []call) ([]any, map[any]any) {
	var res []any
	for _, c := range calls {
		v, ok := c.apply(m)
		res = append(res, v, ok)
	}
	final := map[any]any{}
	m.Range(func(k, v any) bool { final[k] = v; return true })
	return res, final
}

func TestMatchesSyncMap(t *testing.T) {
	f := func(calls []call) ([]any, map[any]any) { return apply(new(cmap.Map[any, any]), calls) }
	g := func(calls []call) ([]any, map[any]any) { return apply(new(sync.Map), calls) }
	if err := quick.CheckEqual(f, g, &quick.Config{MaxCount: 500}); err != nil {
		t.Error(err)
	}
}
