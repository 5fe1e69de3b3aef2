package cmap_test

// Tests in the spirit of Go's own sync.Map suite (src/sync/map_test.go),
// run on cmap.Map[any, any], the drop-in use: quick-checked agreement with
// a mutex-guarded map, nested Range with writes, collection of deleted
// keys, allocation-free Range, concurrent Clear.

import (
	"math/rand"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
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

func TestRangeNestedCall(t *testing.T) {
	var m cmap.Map[any, any]
	for i, v := range [3]string{"hello", "world", "Go"} {
		m.Store(i, v)
	}
	m.Range(func(key, value any) bool {
		m.Range(func(key, value any) bool {
			if v, ok := m.Load(key); !ok || v != value {
				t.Fatalf("nested Range: Load(%v) = %v, %v; want %v", key, v, ok, value)
			}
			if _, loaded := m.LoadOrStore(42, "dummy"); loaded {
				t.Fatal("nested Range: key 42 present before it was stored")
			}
			m.Store(42, "x")
			if v, loaded := m.LoadAndDelete(42); !loaded || v != "x" {
				t.Fatalf("nested Range: LoadAndDelete(42) = %v, %v", v, loaded)
			}
			return true
		})
		m.Delete(key)
		return true
	})
	n := 0
	m.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d keys left after deleting them all in Range", n)
	}
	check(t, &m)
}

func TestDeletedKeysAreCollected(t *testing.T) {
	var m cmap.Map[any, any]
	m.Store(nil, struct{}{})
	var cleaned atomic.Uint32
	for i := 0; cleaned.Load() == 0; i++ {
		if i == 1000 {
			t.Fatal("no deleted key was collected after 1000 GCs")
		}
		p := new(int)
		runtime.AddCleanup(p, func(c *atomic.Uint32) { c.Add(1) }, &cleaned)
		m.Store(p, struct{}{})
		m.Delete(p)
		runtime.GC()
	}
}

func TestCompareAndSwapNonExistingKey(t *testing.T) {
	m := new(cmap.Map[any, any])
	if m.CompareAndSwap(m, nil, 42) {
		t.Fatal("CompareAndSwap on a non-existing key succeeded")
	}
}

func TestRangeNoAllocations(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	var zero cmap.Map[any, any]
	full := cmap.New[int, int]()
	for i := range 100 {
		full.Store(i, i)
	}
	for name, f := range map[string]func(){
		"zero Map": func() { zero.Range(func(any, any) bool { return true }) },
		"100 keys": func() { full.Range(func(int, int) bool { return true }) },
		"All": func() {
			for range full.All() {
			}
		},
	} {
		if a := testing.AllocsPerRun(10, f); a > 0 {
			t.Errorf("%s: Range allocates %v times, want 0", name, a)
		}
	}
}
