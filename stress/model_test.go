package stress

import (
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// op builds a porcupine operation on key 1 for the model tests.
func op(client int, call, ret int64, kind opKind, a, b uint64, v uint64, ok bool) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: linInput{kind: kind, key: 1, a: a, b: b}, Output: linOutput{v, ok}, Call: call, Return: ret}
}

// TestLinModel checks the sequential specification on hand-made histories,
// linearizable and not: the linearizability scenario is only as good as it.
func TestLinModel(t *testing.T) {
	tests := []struct {
		name    string
		history []porcupine.Operation
		want    bool
	}{
		{"sequential", []porcupine.Operation{
			op(0, 0, 1, opLoad, 0, 0, 0, false),
			op(0, 2, 3, opLoadOrStore, 1, 0, 1, false),
			op(0, 4, 5, opLoadOrStore, 2, 0, 1, true),
			op(0, 6, 7, opSwap, 3, 0, 1, true),
			op(0, 8, 9, opCompareAndSwap, 1, 4, 0, false),
			op(0, 10, 11, opCompareAndSwap, 3, 4, 0, true),
			op(0, 12, 13, opRange, 0, 0, 4, true),
			op(0, 14, 15, opCompareAndDelete, 3, 0, 0, false),
			op(0, 16, 17, opCompareAndDelete, 4, 0, 0, true),
			op(0, 18, 19, opLoadAndDelete, 0, 0, 0, false),
			op(0, 20, 21, opStore, 2, 0, 0, false),
			op(0, 22, 23, opLoadAndDelete, 0, 0, 2, true),
			op(0, 24, 25, opStore, 2, 0, 0, false),
			op(0, 26, 27, opDelete, 0, 0, 0, false),
			op(0, 28, 29, opRange, 0, 0, 0, false),
		}, true},
		{"overlapping store and load", []porcupine.Operation{
			op(0, 0, 10, opStore, 1, 0, 0, false),
			op(1, 2, 3, opLoad, 0, 0, 1, true),
			op(2, 4, 5, opLoad, 0, 0, 0, false),
		}, false}, // once a read saw the store, a later read cannot miss it
		{"stale load", []porcupine.Operation{
			op(0, 0, 1, opStore, 1, 0, 0, false),
			op(0, 2, 3, opStore, 2, 0, 0, false),
			op(1, 4, 5, opLoad, 0, 0, 1, true),
		}, false},
		{"two LoadOrStores both store", []porcupine.Operation{
			op(0, 0, 3, opLoadOrStore, 1, 0, 1, false),
			op(1, 1, 2, opLoadOrStore, 2, 0, 2, false),
		}, false},
		{"CompareAndSwap on a wrong old value", []porcupine.Operation{
			op(0, 0, 1, opStore, 1, 0, 0, false),
			op(1, 2, 3, opCompareAndSwap, 2, 3, 0, true),
		}, false},
		{"miss with a value", []porcupine.Operation{
			op(0, 0, 1, opLoad, 0, 0, 7, false),
		}, false},
		{"Range misses a key present throughout", []porcupine.Operation{
			op(0, 0, 1, opStore, 1, 0, 0, false),
			op(1, 2, 9, opRange, 0, 0, 0, false),
			op(0, 3, 4, opStore, 2, 0, 0, false),
		}, false},
		{"Clear then a hit with no store in between", []porcupine.Operation{
			op(0, 0, 1, opStore, 1, 0, 0, false),
			op(0, 2, 3, opClear, 0, 0, 0, false),
			op(0, 4, 5, opLoad, 0, 0, 1, true),
		}, false},
		{"Clear overlapping a Store", []porcupine.Operation{
			op(0, 0, 1, opStore, 1, 0, 0, false),
			op(1, 2, 6, opClear, 0, 0, 0, false),
			op(0, 3, 4, opStore, 2, 0, 0, false),
			op(0, 7, 8, opLoad, 0, 0, 0, false),
		}, true}, // the Clear may take effect after the Store it overlaps
		{"Clear overlapping a Store, then the old value", []porcupine.Operation{
			op(0, 0, 1, opStore, 1, 0, 0, false),
			op(1, 2, 6, opClear, 0, 0, 0, false),
			op(0, 3, 4, opStore, 2, 0, 0, false),
			op(0, 7, 8, opLoad, 0, 0, 1, true),
		}, false},
		{"Range sees a value from within its call", []porcupine.Operation{
			op(0, 0, 1, opStore, 1, 0, 0, false),
			op(1, 2, 9, opRange, 0, 0, 0, false),
			op(0, 3, 4, opDelete, 0, 0, 0, false),
		}, true},
	}
	for _, tt := range tests {
		if got := porcupine.CheckOperations(linModel, tt.history); got != tt.want {
			t.Errorf("%s: linearizable = %t, want %t", tt.name, got, tt.want)
		}
	}
}

// TestLinHistory checks that a Range is projected onto every key, and that
// a Range visiting a key twice or an unknown key is rejected.
func TestLinHistory(t *testing.T) {
	keys := []uint64{10, 20}
	rng := linRecord{in: linInput{kind: opRange}, seen: []kv{{10, 3}}, call: 1, ret: 2}
	h, bad := linHistory([][]linRecord{{rng}}, keys, nil)
	if bad != "" || len(h) != 2 {
		t.Fatalf("linHistory = %v, %q; want two projections", h, bad)
	}
	if in, out := h[0].Input.(linInput), h[0].Output.(linOutput); in.key != 10 || out != (linOutput{3, true}) {
		t.Errorf("projection on key 10 = %+v %+v, want a visit with value 3", in, out)
	}
	if in, out := h[1].Input.(linInput), h[1].Output.(linOutput); in.key != 20 || out != (linOutput{}) {
		t.Errorf("projection on key 20 = %+v %+v, want no visit", in, out)
	}
	for _, seen := range [][]kv{{{10, 3}, {10, 3}}, {{30, 1}}} {
		rng.seen = seen
		if _, bad := linHistory([][]linRecord{{rng}}, keys, nil); bad == "" || !strings.Contains(bad, "Range visited") {
			t.Errorf("linHistory accepted a Range that saw %v", seen)
		}
	}
}

// TestLinReport checks the report of a long history that fails late: at
// most 30 lines, cut to the shortest failing prefix, with the operation
// that cannot be placed marked.
func TestLinReport(t *testing.T) {
	var h []porcupine.Operation
	for i := range int64(100) {
		h = append(h, op(0, 4*i, 4*i+1, opStore, uint64(i%4+1), 0, 0, false))
		h = append(h, op(1, 4*i+2, 4*i+3, opLoad, 0, 0, uint64(i%4+1), true))
	}
	h = append(h, op(1, 400, 401, opLoad, 0, 0, 2, true)) // the last Store was of 4
	h = append(h, op(0, 402, 403, opStore, 1, 0, 0, false))
	s := &state{t: t, cfg: config{seed: 1}}
	r := linReport(s, 0, h, []uint64{1})
	t.Log(r)
	lines := strings.Split(r, "\n")
	if len(lines) > 30 {
		t.Errorf("report of %d lines, want at most 30", len(lines))
	}
	if !strings.Contains(r, "the first 201,") {
		t.Errorf("report does not cut the history to the 201 operations up to the failing Load")
	}
	var marked string
	for _, l := range lines {
		if strings.Contains(l, "<- the first operation that cannot be placed") {
			marked = l
		}
	}
	if !strings.Contains(marked, "[ 400,  401] g1 Load(k) = (2, true)") {
		t.Errorf("marked %q, want the Load that returns 2", marked)
	}
}
