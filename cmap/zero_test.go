package cmap_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// TestZeroMapEveryMethod: each method, called first on a zero Map, acts
// on an empty map (and a write makes it usable), including JSON,
// Snapshot, Stats, Reserve, TryStore and LoadOrTryCompute; the order
// methods panic naming the option.
func TestZeroMapEveryMethod(t *testing.T) {
	type Z = cmap.Map[string, int]
	calls := []struct {
		name string
		do   func(m *Z) any
		want string // fmt.Sprint of the result
		len  int    // Len afterwards
	}{
		{"Load", func(m *Z) any { return fmt.Sprint(m.Load("a")) }, "0 false", 0},
		{"Store", func(m *Z) any { m.Store("a", 1); return nil }, "<nil>", 1},
		{"Swap", func(m *Z) any { return fmt.Sprint(m.Swap("a", 1)) }, "0 false", 1},
		{"TryStore", func(m *Z) any { return m.TryStore("a", 1) }, "<nil>", 1},
		{"LoadOrStore", func(m *Z) any { return fmt.Sprint(m.LoadOrStore("a", 1)) }, "1 false", 1},
		{"LoadAndDelete", func(m *Z) any { return fmt.Sprint(m.LoadAndDelete("a")) }, "0 false", 0},
		{"Delete", func(m *Z) any { m.Delete("a"); return nil }, "<nil>", 0},
		{"CompareAndSwap", func(m *Z) any { return m.CompareAndSwap("a", 0, 1) }, "false", 0},
		{"CompareAndDelete", func(m *Z) any { return m.CompareAndDelete("a", 0) }, "false", 0},
		{"Compute", func(m *Z) any {
			return fmt.Sprint(m.Compute("a", func(int, bool) (int, cmap.ComputeOp) { return 1, cmap.UpdateOp }))
		}, "1 true", 1},
		{"Compute CancelOp", func(m *Z) any {
			return fmt.Sprint(m.Compute("a", func(int, bool) (int, cmap.ComputeOp) { return 1, cmap.CancelOp }))
		}, "0 false", 0},
		{"LoadOrCompute", func(m *Z) any { return fmt.Sprint(m.LoadOrCompute("a", func() int { return 1 })) }, "1 false", 1},
		{"LoadOrTryCompute", func(m *Z) any {
			return fmt.Sprint(m.LoadOrTryCompute("a", func() (int, error) { return 1, nil }))
		}, "1 false <nil>", 1},
		{"LoadOrTryCompute failing", func(m *Z) any {
			return fmt.Sprint(m.LoadOrTryCompute("a", func() (int, error) { return 1, errNope }))
		}, "0 false nope", 0},
		{"Len", func(m *Z) any { return m.Len() }, "0", 0},
		{"Range", func(m *Z) any { n := 0; m.Range(func(string, int) bool { n++; return true }); return n }, "0", 0},
		{"All", func(m *Z) any {
			n := 0
			for range m.All() {
				n++
			}
			return n
		}, "0", 0},
		{"Keys", func(m *Z) any {
			n := 0
			for range m.Keys() {
				n++
			}
			return n
		}, "0", 0},
		{"Values", func(m *Z) any {
			n := 0
			for range m.Values() {
				n++
			}
			return n
		}, "0", 0},
		{"Clear", func(m *Z) any { m.Clear(); return nil }, "<nil>", 0},
		{"Reserve", func(m *Z) any { m.Reserve(1000); return nil }, "<nil>", 0},
		{"Snapshot", func(m *Z) any {
			s := m.Snapshot()
			n := 0
			for range s.All() {
				n++
			}
			return fmt.Sprint(s.Len(), n)
		}, "0 0", 0},
		{"Stats", func(m *Z) any { s := m.Stats(); return fmt.Sprint(s.Len, s.Tombstones, s.MaxProbe) }, "0 0 0", 0},
		{"MarshalJSON", func(m *Z) any { b, err := json.Marshal(m); return fmt.Sprintln(string(b), err) }, "{} <nil>\n", 0},
		{"UnmarshalJSON", func(m *Z) any { return json.Unmarshal([]byte(`{"a":1}`), m) }, "<nil>", 1},
		{"UnmarshalJSON {}", func(m *Z) any { return json.Unmarshal([]byte(`{}`), m) }, "<nil>", 0},
		{"UnmarshalJSON error", func(m *Z) any { return json.Unmarshal([]byte(`{"a":"x"}`), m) != nil }, "true", 0},
		{"CheckInvariants", func(m *Z) any { return m.CheckInvariants() }, "<nil>", 0},
	}
	for _, c := range calls {
		var m Z
		if got := fmt.Sprint(c.do(&m)); got != c.want {
			t.Errorf("zero Map: %s = %s, want %s", c.name, got, c.want)
		}
		if m.Len() != c.len {
			t.Errorf("zero Map: Len after %s = %d, want %d", c.name, m.Len(), c.len)
		}
		check(t, &m)
		m.Store("b", 2) // and the map works afterwards
		if v, ok := m.Load("b"); !ok || v != 2 || m.Len() != c.len+1 {
			t.Errorf("zero Map after %s: Load(b) = %d, %v; Len %d", c.name, v, ok, m.Len())
		}
		check(t, &m)
	}
	for _, name := range []string{"Oldest", "Newest", "PopOldest"} {
		var m Z
		p := recovered(func() {
			switch name {
			case "Oldest":
				m.Oldest()
			case "Newest":
				m.Newest()
			default:
				m.PopOldest()
			}
		})
		if msg, _ := p.(string); !strings.Contains(msg, "cmap: "+name+": map built without WithInsertionOrder") {
			t.Errorf("zero Map: %s panicked with %v", name, p)
		}
	}
}

// TestZeroMapFirstUseRace: goroutines make their first call on the same
// zero Map at once, each through another method: all of them act on one
// map.
func TestZeroMapFirstUseRace(t *testing.T) {
	for range 50 {
		var m cmap.Map[int, int]
		var wg sync.WaitGroup
		firsts := []func(k int){
			func(k int) { m.Store(k, k) },
			func(k int) { m.LoadOrStore(k, k) },
			func(k int) { m.Swap(k, k) },
			func(k int) { m.TryStore(k, k) },
			func(k int) { m.LoadOrCompute(k, func() int { return k }) },
			func(k int) { m.LoadOrTryCompute(k, func() (int, error) { return k, nil }) },
			func(k int) { m.Compute(k, func(int, bool) (int, cmap.ComputeOp) { return k, cmap.UpdateOp }) },
			func(k int) { m.Reserve(100); m.Store(k, k) },
			func(k int) { m.Snapshot(); m.Store(k, k) },
			func(k int) { json.Unmarshal([]byte(fmt.Sprintf(`{"%d":%d}`, k, k)), &m) },
		}
		for i, f := range firsts {
			wg.Add(1)
			go func() { defer wg.Done(); f(i) }()
		}
		wg.Wait()
		if m.Len() != len(firsts) {
			t.Fatalf("Len = %d after %d first stores at once", m.Len(), len(firsts))
		}
		for i := range firsts {
			if v, ok := m.Load(i); !ok || v != i {
				t.Fatalf("Load(%d) = %d, %v", i, v, ok)
			}
		}
		check(t, &m)
	}
}

func TestZeroValue(t *testing.T) {
	var m cmap.Map[string, int]
	if _, ok := m.Load("a"); ok {
		t.Fatal("zero Map: Load found a key")
	}
	if n := m.Len(); n != 0 {
		t.Fatalf("zero Map: Len = %d", n)
	}
	m.Delete("a")
	m.Range(func(string, int) bool { t.Fatal("zero Map: Range visited a key"); return false })
	m.Clear()
	m.Store("a", 1)
	if v, ok := m.Load("a"); !ok || v != 1 {
		t.Fatalf("Load(a) = %v, %v after Store", v, ok)
	}
	check(t, &m)
}
