package snapshot_test

import (
	"encoding/json"
	"testing"

	"github.com/segmap/segmap/cmap"
	"github.com/segmap/segmap/snapshot"
)

// TestJSONOfCopiedSnapshot: a Snapshot copied by value (dereferenced, or
// held in a struct field of type Snapshot) encodes its entries as the
// *Snapshot does; a nil *Snapshot encodes as null.
func TestJSONOfCopiedSnapshot(t *testing.T) {
	m := cmap.New[string, int]()
	m.Store("a", 1)
	s := m.Snapshot()
	type holder struct {
		S snapshot.Snapshot[string, int]
		P *snapshot.Snapshot[string, int]
	}
	for _, c := range []struct {
		name string
		x    any
		want string
	}{
		{"pointer", s, `{"a":1}`},
		{"value", *s, `{"a":1}`},
		{"field", holder{S: *s, P: s}, `{"S":{"a":1},"P":{"a":1}}`},
	} {
		if b, err := json.Marshal(c.x); err != nil || string(b) != c.want {
			t.Errorf("%s: json.Marshal = %s, %v; want %s", c.name, b, err, c.want)
		}
	}
	if b, err := json.Marshal(holder{S: *s}); err != nil || string(b) != `{"S":{"a":1},"P":null}` {
		t.Errorf("nil *Snapshot field: json.Marshal = %s, %v; want P null", b, err)
	}
	c := *s
	if v, ok := c.Load("a"); !ok || v != 1 || c.Len() != 1 {
		t.Errorf("copy: Load(a) = (%d, %t), Len %d", v, ok, c.Len())
	}
}
