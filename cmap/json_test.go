package cmap_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// Key and value types for the comparisons with encoding/json.
type (
	// name is a named string type: a string key.
	name string
	// point is a key by encoding.TextMarshaler ("x,y").
	point struct{ X, Y int }
	// record is a struct value with tags, a slice and a pointer.
	record struct {
		Name string   `json:"name"`
		Tags []string `json:"tags,omitempty"`
		Next *record  `json:"next"`
	}
	// failing is a value whose MarshalJSON fails.
	failing struct{}
	// badJSON is a value whose MarshalJSON returns invalid JSON.
	badJSON struct{}
)

func (p point) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%d,%d", p.X, p.Y), nil }

func (p *point) UnmarshalText(b []byte) error {
	_, err := fmt.Sscanf(string(b), "%d,%d", &p.X, &p.Y)
	return err
}

func (failing) MarshalJSON() ([]byte, error) { return nil, errors.New("failing: cannot encode") }
func (badJSON) MarshalJSON() ([]byte, error) { return []byte(`{"a":`), nil }

// jsonCase compares a Map with the plain map both ways: entries is
// marshaled (as a Map, as its Snapshot and by MarshalJSON itself), and is
// the initial content of the Map and of the plain map into which each of
// inputs is unmarshaled; each input is also unmarshaled into a zero Map.
type jsonCase[K comparable, V any] struct {
	name    string
	entries map[K]V
	inputs  []string
}

// badInputs are unmarshaled in every case: the plain map's answer to
// each, success or error, is the one to match.
var badInputs = []string{
	``, ` `, `{`, `{"1":1,`, `{"1":1}x`, `[1]`, `"s"`, `1`, `true`,
	`{}`, ` { } `, `null`, ` null `, `{"1":null}`, `{"1":{}}`, `{"1":[]}`,
}

func (c jsonCase[K, V]) run(t *testing.T) {
	t.Run(c.name, func(t *testing.T) {
		sameMarshal(t, c.entries)
		for _, in := range append(slices.Clone(c.inputs), badInputs...) {
			sameUnmarshal(t, c.entries, in)
		}
	})
}

// encoders are the ways encoding/json encodes a value.
var encoders = []struct {
	name string
	enc  func(v any) ([]byte, error)
}{
	{"Marshal", json.Marshal},
	{"MarshalIndent", func(v any) ([]byte, error) { return json.MarshalIndent(v, "> ", "\t") }},
	{"Encoder", func(v any) ([]byte, error) { return encode(v, true) }},
	{"Encoder.SetEscapeHTML(false)", func(v any) ([]byte, error) { return encode(v, false) }},
}

func encode(v any, escapeHTML bool) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	err := enc.Encode(v)
	return b.Bytes(), err
}

// sameMarshal checks that every encoder gives for a Map holding plain's
// entries, and for its snapshot, the bytes it gives for plain, or the
// error it gives wrapped in a json.MarshalerError; and that MarshalJSON
// itself gives the unescaped encoding or exactly the plain map's error.
func sameMarshal[K comparable, V any](t *testing.T, plain map[K]V) {
	t.Helper()
	m := cmap.New[K, V](cmap.WithSegments(4))
	for k, v := range plain {
		m.Store(k, v)
	}
	for _, e := range encoders {
		want, wantErr := e.enc(plain)
		for _, v := range []any{m, m.Snapshot()} {
			got, err := e.enc(v)
			var me *json.MarshalerError
			switch {
			case wantErr == nil && (err != nil || !bytes.Equal(got, want)):
				t.Fatalf("%s(%T) = %#q, %v; plain map: %#q", e.name, v, got, err, want)
			case wantErr != nil && !errors.As(err, &me):
				t.Fatalf("%s(%T): error %v, want a json.MarshalerError wrapping %v", e.name, v, err, wantErr)
			case wantErr != nil:
				sameError(t, fmt.Sprintf("%s(%T)", e.name, v), me.Unwrap(), wantErr)
			}
		}
	}
	mj, ok := any(m).(json.Marshaler)
	if !ok {
		t.Fatalf("%T is not a json.Marshaler", m)
	}
	want, wantErr := encode(plain, false)
	got, err := mj.MarshalJSON()
	if wantErr != nil {
		sameError(t, "MarshalJSON", err, wantErr)
	} else if err != nil || !bytes.Equal(append(got, '\n'), want) {
		t.Fatalf("MarshalJSON = %#q, %v; plain map unescaped: %#q", got, err, want)
	}
}

// sameUnmarshal checks that json.Unmarshal of data into a Map holding
// initial, and into a zero Map, returns what it returns for the plain map
// holding initial, and leaves the Map with the plain map's entries, or
// with initial on an error or null.
func sameUnmarshal[K comparable, V any](t *testing.T, initial map[K]V, data string) {
	t.Helper()
	for _, init := range []map[K]V{initial, {}} {
		plain := maps.Clone(init)
		wantErr := json.Unmarshal([]byte(data), &plain)
		want := plain
		if wantErr != nil || plain == nil {
			want = init // m is unchanged by an error or null
		}
		m := new(cmap.Map[K, V]) // zero Map
		if len(init) > 0 {
			m = cmap.New[K, V](cmap.WithSegments(4))
		}
		for k, v := range init {
			m.Store(k, v)
		}
		err := json.Unmarshal([]byte(data), m)
		what := fmt.Sprintf("Unmarshal(%#q) into %d entries", data, len(init))
		if wantErr != nil || err != nil {
			sameError(t, what, err, wantErr)
		}
		// (fmt prints maps sorted, and NaN values alike, which DeepEqual
		// does not take as equal.)
		if got := contents(m); !reflect.DeepEqual(got, want) && fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: map holds %v, want %v", what, got, want)
		}
		check(t, m)
	}
}

// sameError fails unless err and want have the same type and message.
func sameError(t *testing.T, what string, err, want error) {
	t.Helper()
	if err == nil || want == nil || reflect.TypeOf(err) != reflect.TypeOf(want) || err.Error() != want.Error() {
		t.Fatalf("%s: error %T %v; plain map: %T %v", what, err, err, want, want)
	}
}

// TestJSONLikePlainMap: Marshal (of a Map, of a Snapshot, through every
// encoder) and Unmarshal (into a Map with entries, into a zero Map) give
// what encoding/json gives for the plain map[K]V, bytes and errors, over
// key types string, int, int8, uint64, a named string type and a
// TextMarshaler, values of many kinds, and unsupported key types.
func TestJSONLikePlainMap(t *testing.T) {
	html := "<a href='x'>&amp;</a>\u2028\u2029"
	jsonCase[string, int]{"string-int",
		map[string]int{"a": 1, "b": -2, html: 3, "é\t\"\\": 4, "\xff": 5},
		[]string{`{"a":10,"c":3}`, `{"a":"x","c":3}`, `{"a":1.5}`, `{"a":1,"a":2}`, `{"\u003c":1}`, `{"1":1e3}`}}.run(t)
	jsonCase[string, string]{"string-string-html",
		map[string]string{html: html, "": ""},
		[]string{`{"x":"<>&"}`, `{"x":1}`}}.run(t)
	jsonCase[int, string]{"int-string",
		map[int]string{-1: "<b>", 0: "", math.MaxInt: "x&y", math.MinInt: "min"},
		[]string{`{"-1":"q","7":"r"}`, `{"x":"q"}`, `{"1.5":"a"}`, `{"99999999999999999999":"a"}`, `{" 1":"a"}`}}.run(t)
	jsonCase[int8, bool]{"int8-bool",
		map[int8]bool{-128: true, 127: false},
		[]string{`{"300":true}`, `{"-128":false,"5":true}`, `{"5":"true"}`}}.run(t)
	jsonCase[uint64, *record]{"uint64-pointer",
		map[uint64]*record{0: nil, math.MaxUint64: {Name: "n", Tags: []string{"<t>"}, Next: &record{Name: "m"}}},
		[]string{`{"18446744073709551615":{"name":"n","next":{"name":"m"}},"1":null}`, `{"-1":null}`, `{"1":{"name":5}}`}}.run(t)
	jsonCase[name, any]{"named-any",
		map[name]any{"x": nil, "y": []any{1.5, "<", map[string]any{"k": true}}},
		[]string{`{"x":[1,"a",{"b":null}],"w":1e400}`, `{"z":{"q":[]}}`}}.run(t)
	jsonCase[name, any]{"named-any-NaN", map[name]any{"z": math.NaN()}, nil}.run(t)
	jsonCase[point, record]{"TextMarshaler-struct",
		map[point]record{{1, 2}: {Name: "a"}, {-3, 4}: {Name: "<b>", Tags: []string{"t"}}},
		[]string{`{"5,6":{"name":"c"}}`, `{"bad":{}}`, `{"1,2":{"tags":["u"]}}`}}.run(t)
	jsonCase[string, float64]{"NaN", map[string]float64{"n": math.NaN(), "one": 1}, []string{`{"n":1e-300}`}}.run(t)
	jsonCase[string, float64]{"Inf", map[string]float64{"i": math.Inf(1)}, nil}.run(t)
	jsonCase[string, failing]{"failing-MarshalJSON", map[string]failing{"f": {}}, nil}.run(t)
	jsonCase[string, failing]{"failing-MarshalJSON-empty", map[string]failing{}, nil}.run(t)
	jsonCase[string, badJSON]{"invalid-MarshalJSON", map[string]badJSON{"b": {}}, nil}.run(t)
	jsonCase[float64, int]{"float64-keys", map[float64]int{1.5: 1}, []string{`{"1.5":1}`}}.run(t)
	jsonCase[float64, int]{"float64-keys-empty", map[float64]int{}, nil}.run(t)
	jsonCase[struct{ A int }, int]{"struct-keys", map[struct{ A int }]int{{1}: 1}, nil}.run(t)
	jsonCase[bool, int]{"bool-keys", map[bool]int{true: 1}, []string{`{"true":1}`}}.run(t)
	jsonCase[[2]int, int]{"array-keys", map[[2]int]int{{1, 2}: 1}, nil}.run(t)
}

// TestJSONNested: a Map inside a struct encodes and decodes as a plain
// map there.
func TestJSONNested(t *testing.T) {
	type withMap struct {
		M *cmap.Map[string, int] `json:"m"`
		N int                    `json:"n"`
	}
	type withPlain struct {
		M map[string]int `json:"m"`
		N int            `json:"n"`
	}
	m := cmap.New[string, int]()
	m.Store("<k>", 1)
	got, err := json.Marshal(withMap{m, 2})
	want, _ := json.Marshal(withPlain{map[string]int{"<k>": 1}, 2})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Marshal = %s, %v; want %s", got, err, want)
	}
	var back withMap
	if err := json.Unmarshal(want, &back); err != nil || back.N != 2 || !maps.Equal(contents(back.M), map[string]int{"<k>": 1}) {
		t.Fatalf("Unmarshal(%s) = %v, %v", want, back, err)
	}
}

// TestUnmarshalJSONNull: JSON null stores nothing, as json.Unmarshaler's
// convention asks, where a plain map would be set to nil.
func TestUnmarshalJSONNull(t *testing.T) {
	m := cmap.New[string, int]()
	m.Store("a", 1)
	if err := json.Unmarshal([]byte("null"), m); err != nil || !maps.Equal(contents(m), map[string]int{"a": 1}) {
		t.Fatalf("Unmarshal(null): %v, %v", contents(m), err)
	}
	var z cmap.Map[string, int]
	if err := json.Unmarshal([]byte("null"), &z); err != nil || z.Len() != 0 {
		t.Fatalf("zero Map: Unmarshal(null): %v, %v", z.Len(), err)
	}
}

// TestUnmarshalJSONOrder: with insertion order, entries are stored in
// the order of the JSON object, a repeated key at its last position; an
// EvictOldest map keeps the last ones.
func TestUnmarshalJSONOrder(t *testing.T) {
	m := cmap.New[string, int](cmap.WithInsertionOrder())
	m.Store("old", 0)
	if err := json.Unmarshal([]byte(`{"z":1,"y":2,"old":5,"x":3,"y":4,"w":6}`), m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m.Snapshot().InOrder() {
		keys = append(keys, k)
	}
	if want := []string{"z", "old", "x", "y", "w"}; !slices.Equal(keys, want) {
		t.Fatalf("InOrder = %v, want %v", keys, want)
	}
	var evicted []string
	b := cmap.New[point, int](cmap.WithMaxLen(2, cmap.EvictOldest), cmap.WithOnEvict(func(k point, _ int) {
		evicted = append(evicted, k.String())
	}))
	if err := json.Unmarshal([]byte(`{"3,3":3,"1,1":1,"2,2":2}`), b); err != nil {
		t.Fatal(err)
	}
	k, _, _ := b.Oldest()
	if got := contents(b); !maps.Equal(got, map[point]int{{1, 1}: 1, {2, 2}: 2}) || k != (point{1, 1}) ||
		!slices.Equal(evicted, []string{"3,3"}) {
		t.Fatalf("EvictOldest(2): holds %v, oldest %v, evicted %v", got, k, evicted)
	}
}

func (p point) String() string { b, _ := p.MarshalText(); return string(b) }

// TestUnmarshalJSONRejectNew: on a RejectNew map, JSON whose new keys do
// not fit stores nothing and returns an error wrapping ErrFull; JSON that
// fits, counting updates of present keys as free, is stored. (Insertion
// order makes the stores follow the JSON: "a" and "b" would be stored
// before "d" fails.)
func TestUnmarshalJSONRejectNew(t *testing.T) {
	m := cmap.New[string, int](cmap.WithMaxLen(3, cmap.RejectNew), cmap.WithInsertionOrder())
	m.Store("a", 1)
	if err := json.Unmarshal([]byte(`{"a":10,"b":2,"c":3}`), m); err != nil {
		t.Fatalf("Unmarshal of 2 new keys into 1 of 3: %v", err)
	}
	err := json.Unmarshal([]byte(`{"a":5,"b":6,"d":4}`), m)
	if !errors.Is(err, cmap.ErrFull) {
		t.Fatalf("Unmarshal of a 4th key: error %v, want ErrFull", err)
	}
	if got, want := contents(m), map[string]int{"a": 10, "b": 2, "c": 3}; !maps.Equal(got, want) {
		t.Fatalf("after ErrFull the map holds %v, want %v", got, want)
	}
	t.Log(err)
	check(t, m)
}

// TestMarshalJSONOneInstant: while writers store rounds in key order,
// every encoding of the map shows each writer's keys at round r on a
// prefix and r-1 on the rest: one instant of the map, not a walk over it.
func TestMarshalJSONOneInstant(t *testing.T) {
	const groups, n, rounds = 2, 200, 40
	m := cmap.New[int, int](cmap.WithSegments(8))
	for k := range groups * n {
		m.Store(k, 0)
	}
	var wg sync.WaitGroup
	var done atomic.Int32
	for g := range groups {
		wg.Go(func() {
			defer done.Add(1)
			for r := 1; r <= rounds; r++ {
				for k := range n {
					m.Store(g*n+k, r)
				}
			}
		})
	}
	for encodings := 0; done.Load() < groups || encodings < 10; encodings++ {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var got map[int]int
		if err := json.Unmarshal(b, &got); err != nil || len(got) != groups*n {
			t.Fatalf("decoding %d entries: %v", len(got), err)
		}
		for g := range groups {
			vals := make([]int, n)
			for k := range n {
				vals[k] = got[g*n+k]
			}
			if err := prefixOfRounds(vals); err != nil {
				t.Fatalf("encoding %d, writer %d: %v", encodings, g, err)
			}
		}
	}
	wg.Wait()
}

// FuzzJSON: Marshal of a Map built from arbitrary strings equals the plain
// map's, and Unmarshal of arbitrary bytes into a Map does what it does
// into the plain map (the comparisons of TestJSONLikePlainMap).
//
//	go test ./cmap -run '^$' -fuzz FuzzJSON -fuzztime 1m
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"a":1,"<b>":2}`, `{"1":"x","-128":null,"300":2}`, `{"a":1,"a":{"b":[]}}`, "x\x00<&>\u2028\x00\xff", `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		strs := map[string]int{}
		ints := map[int16]string{}
		for i, p := range bytes.Split(data, []byte{0}) {
			strs[string(p)] = i
			if len(p) >= 2 {
				ints[int16(p[0])<<8|int16(p[1])] = string(p[2:])
			}
		}
		sameMarshal(t, strs)
		sameMarshal(t, ints)
		sameUnmarshal(t, map[string]int{"a": 1}, string(data))
		sameUnmarshal(t, map[int8]any{1: "x"}, string(data))
	})
}

// TestUnmarshalJSONBoundedOrderedEdges: JSON keys that differ as text but
// decode to one key ("1", "01", "+1" for int keys) count once, at their
// last position, for the order and for a RejectNew map's room; a full
// RejectNew map takes JSON that only updates its keys; a failing decode
// into a bounded map changes nothing.
func TestUnmarshalJSONBoundedOrderedEdges(t *testing.T) {
	m := cmap.New[int, int](cmap.WithInsertionOrder())
	if err := json.Unmarshal([]byte(`{"1":1,"2":2,"01":3,"3":4,"+2":5}`), m); err != nil {
		t.Fatal(err)
	}
	var order []int
	for k := range m.Snapshot().InOrder() {
		order = append(order, k)
	}
	var plain map[int]int
	json.Unmarshal([]byte(`{"1":1,"2":2,"01":3,"3":4,"+2":5}`), &plain)
	if got := contents(m); !maps.Equal(got, plain) || !slices.Equal(order, []int{1, 3, 2}) {
		t.Fatalf("holds %v in order %v; want %v in order [1 3 2]", got, order, plain)
	}

	r := cmap.New[int, int](cmap.WithMaxLen(3, cmap.RejectNew), cmap.WithInsertionOrder())
	r.Store(1, 1)
	r.Store(2, 2)
	if err := json.Unmarshal([]byte(`{"7":1,"07":2,"+7":3}`), r); err != nil { // one new key
		t.Fatalf("one new key, spelled three ways, into a map with room for one: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"1":10,"2":20,"7":70}`), r); err != nil {
		t.Fatalf("updates only, into a full map: %v", err)
	}
	if got := contents(r); !maps.Equal(got, map[int]int{1: 10, 2: 20, 7: 70}) {
		t.Fatalf("full map after updates: %v", got)
	}
	if err := json.Unmarshal([]byte(`{"1":11,"8":8}`), r); !errors.Is(err, cmap.ErrFull) {
		t.Fatalf("a new key into a full map: %v, want ErrFull", err)
	}
	if err := json.Unmarshal([]byte(`{"1":12,"9":"x"}`), r); err == nil {
		t.Fatal("a bad value decoded")
	}
	if got := contents(r); !maps.Equal(got, map[int]int{1: 10, 2: 20, 7: 70}) {
		t.Fatalf("failed decodes changed the map: %v", got)
	}
	check(t, r)
}

// reentrant is a value whose MarshalJSON and UnmarshalJSON call back into
// the map being encoded or decoded.
type reentrant struct {
	m    *cmap.Map[string, reentrant]
	boom bool
}

func (r reentrant) MarshalJSON() ([]byte, error) {
	if r.boom {
		panic("MarshalJSON exploded")
	}
	if r.m != nil {
		r.m.Store("during-marshal", reentrant{})
		r.m.Snapshot()
		r.m.Range(func(string, reentrant) bool { return true })
		r.m.Compute("x", func(v reentrant, _ bool) (reentrant, cmap.ComputeOp) { return v, cmap.UpdateOp })
		r.m.Len()
	}
	return []byte(`1`), nil
}

// decodeInto is the map UnmarshalJSON of reentrant values writes to.
var decodeInto *cmap.Map[string, reentrant]

func (r *reentrant) UnmarshalJSON(b []byte) error {
	if string(b) == `"boom"` {
		panic("UnmarshalJSON exploded")
	}
	if decodeInto != nil {
		decodeInto.Store("during-unmarshal", reentrant{})
		decodeInto.Snapshot()
	}
	return nil
}

// TestJSONValuesReenterTheMap: a value's MarshalJSON or UnmarshalJSON
// runs with no lock of the map held: it may call any method of the map,
// and if it panics, the panic propagates and leaves no lock held and the
// map as it was.
func TestJSONValuesReenterTheMap(t *testing.T) {
	m := cmap.New[string, reentrant](cmap.WithSegments(1), cmap.WithInsertionOrder())
	m.Store("a", reentrant{m: m})
	if p := finishes(t, "json.Marshal", func() {
		if b, err := json.Marshal(m); err != nil || string(b) != `{"a":1}` {
			t.Errorf("Marshal: %s, %v", b, err)
		}
	}); p != nil {
		t.Fatal(p)
	}
	if _, ok := m.Load("during-marshal"); !ok {
		t.Fatal("the value's MarshalJSON did not store")
	}
	m.Store("bad", reentrant{boom: true})
	before := m.Len()
	if p := finishes(t, "json.Marshal of a panicking value", func() { json.Marshal(m) }); p == nil ||
		!strings.Contains(p.(string), "exploded") {
		t.Fatalf("panic %v, want the value's", p)
	}
	if l := m.LockedSegments(); len(l) != 0 || m.Len() != before {
		t.Fatalf("after a panicking MarshalJSON: locked %v, Len %d of %d", l, m.Len(), before)
	}
	m.Delete("bad")

	decodeInto = m
	defer func() { decodeInto = nil }()
	if p := finishes(t, "json.Unmarshal", func() {
		if err := json.Unmarshal([]byte(`{"u":1,"v":2}`), m); err != nil {
			t.Error(err)
		}
	}); p != nil {
		t.Fatal(p)
	}
	for _, k := range []string{"u", "v", "during-unmarshal"} {
		if _, ok := m.Load(k); !ok {
			t.Fatalf("%s missing after Unmarshal", k)
		}
	}
	before = m.Len()
	if p := finishes(t, "json.Unmarshal of a panicking value", func() {
		json.Unmarshal([]byte(`{"w":1,"z":"boom"}`), m)
	}); p == nil {
		t.Fatal("no panic")
	}
	if _, ok := m.Load("w"); ok || m.Len() != before || len(m.LockedSegments()) != 0 {
		t.Fatalf("a panicking UnmarshalJSON stored w (Len %d of %d) or left locks %v", m.Len(), before, m.LockedSegments())
	}
	check(t, m)
}
