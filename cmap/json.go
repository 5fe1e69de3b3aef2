package cmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// MarshalJSON encodes the map as it was at one instant: it is
// m.Snapshot().MarshalJSON(), so [json.Marshal] of a Map gives exactly
// the bytes and errors that it gives for a plain map[K]V holding the
// entries of [Map.Snapshot] (see
// [github.com/segmap/segmap/snapshot.Snapshot.MarshalJSON] for the rules
// and costs). Like any snapshot, it makes the first write to each segment
// afterwards copy that segment's table.
//
// encoding/json calls it only for a Map it can address: a Map in a struct
// field is encoded when the struct is marshaled through a pointer
// (marshaling the struct by value copies the Map, which go vet reports).
func (m *Map[K, V]) MarshalJSON() ([]byte, error) {
	return m.Snapshot().MarshalJSON()
}

// UnmarshalJSON decodes data, a JSON object, as [json.Unmarshal] decodes
// it into a plain map[K]V, and stores each decoded entry in m: entries of
// m whose keys are not in data stay, keys in data get the decoded value,
// as when decoding into a non-nil plain map. A key that equals no key,
// such as a NaN of a float key type with a text form, adds an entry each
// time data gives it, with the value given there, as in a plain map. The
// zero Map works.
//
// Errors: data is decoded completely before anything is stored, and a
// decode error is returned exactly as json.Unmarshal returns it for the
// plain map ([json.SyntaxError], [json.UnmarshalTypeError], a key or
// value's own error) with m unchanged, whereas a plain map keeps the
// entries decoded before and after a type error. JSON null stores
// nothing, as json.Unmarshaler's convention asks (a plain map would be set
// to nil). Decoded inside an enclosing value, the error message is the
// plain map's, but the error stops the enclosing decode, as the error of
// any json.Unmarshaler does, and a json.UnmarshalTypeError's Offset counts
// from the start of the map's object.
//
// It is not atomic: each entry is stored as by [Map.Store], and
// concurrent readers may see some entries stored before others. On a map
// with insertion order, entries are stored in the order of data (a key
// given twice at its last position), so on an [EvictOldest] map the last
// entries of data are the ones kept. On a [RejectNew] map, if the new keys
// would not fit in the room left, it stores nothing and returns an error
// wrapping [ErrFull] (exact when no other goroutine writes meanwhile); if
// concurrent inserts fill the map during the stores, it stops at the first
// key that no longer fits and returns an error wrapping ErrFull, with the
// entries before it stored.
func (m *Map[K, V]) UnmarshalJSON(data []byte) error {
	var plain map[K]V
	if err := json.Unmarshal(data, &plain); err != nil {
		return err
	}
	if len(plain) == 0 {
		return nil
	}
	// Each key travels with its value: a key is never looked up again,
	// since a NaN key is never found (each NaN of data is an entry of
	// plain of its own, as in any map[K]V).
	st := m.state()
	var kvs []keyValue[K, V]
	if x := st.extra; x != nil && x.ordered {
		kvs = documentOrder[K, V](data, len(plain))
	} else {
		kvs = make([]keyValue[K, V], 0, len(plain))
		for k, v := range plain {
			kvs = append(kvs, keyValue[K, V]{k, v})
		}
	}
	if x := st.extra; x != nil && x.policy == RejectNew {
		return m.tryStoreAll(kvs, int(x.maxLen))
	}
	for _, kv := range kvs {
		m.Store(kv.k, kv.v)
	}
	return nil
}

// keyValue is one decoded entry.
type keyValue[K comparable, V any] struct {
	k K
	v V
}

// tryStoreAll stores the entries kvs in m, a RejectNew map bounded to
// maxLen, in their order, unless the new keys do not fit.
func (m *Map[K, V]) tryStoreAll(kvs []keyValue[K, V], maxLen int) error {
	added := 0
	for _, kv := range kvs {
		if _, ok := m.Load(kv.k); !ok {
			added++
		}
	}
	if n := m.Len(); n+added > maxLen {
		return fmt.Errorf("%w: UnmarshalJSON of %d new keys into a map holding %d of WithMaxLen(%d, RejectNew)",
			ErrFull, added, n, maxLen)
	}
	for i, kv := range kvs {
		if err := m.TryStore(kv.k, kv.v); err != nil {
			return fmt.Errorf("cmap: UnmarshalJSON: stored %d of %d entries: %w", i, len(kvs), err)
		}
	}
	return nil
}

// documentOrder returns the entries that data, a JSON object that decodes
// into a map[K]V of n entries without error, decodes into, in the order
// of their keys' last occurrence in data. It decodes, with the same key
// and value rules, an object with data's keys whose values are [position,
// value] pairs, so that each key comes with its position and value (a key
// given twice keeps its last pair, as in a plain map; each NaN key is an
// entry of its own).
func documentOrder[K comparable, V any](data []byte, n int) []keyValue[K, V] {
	pos, err := keyPositions[K, V](data)
	if err != nil {
		panic("cmap: UnmarshalJSON: internal error: " + err.Error()) // data decoded once already
	}
	kvs := make([]keyValue[K, V], 0, n)
	idx := make([]int, 0, n)
	for k, pv := range pos {
		kvs = append(kvs, keyValue[K, V]{k, pv.v})
		idx = append(idx, pv.pos)
	}
	order := make([]int, len(kvs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return idx[a] - idx[b] })
	sorted := make([]keyValue[K, V], len(kvs))
	for i, j := range order {
		sorted[i] = kvs[j]
	}
	return sorted
}

// posValue is a value of V and the position of its key in the document.
type posValue[V any] struct {
	pos int
	v   V
}

// UnmarshalJSON decodes a [position,value] pair as keyPositions writes
// it: "[", the decimal position, ",", the value, "]".
func (p *posValue[V]) UnmarshalJSON(data []byte) error {
	i := bytes.IndexByte(data, ',')
	if len(data) < 4 || data[0] != '[' || i < 0 || data[len(data)-1] != ']' {
		return fmt.Errorf("cmap: UnmarshalJSON: internal error: %q is not a [position,value] pair", data)
	}
	pos, err := strconv.Atoi(string(data[1:i]))
	if err != nil {
		return err
	}
	p.pos = pos
	return json.Unmarshal(data[i+1:len(data)-1], &p.v)
}

// keyPositions decodes data's keys as map[K]V's keys are decoded, each
// with the position of its last occurrence and its value there.
func keyPositions[K comparable, V any](data []byte) (map[K]posValue[V], error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; dec.More(); i++ {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		quoted, _ := json.Marshal(key)
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(quoted)
		b.WriteString(":[")
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(',')
		b.Write(value)
		b.WriteByte(']')
	}
	b.WriteByte('}')
	var pos map[K]posValue[V]
	err := json.Unmarshal(b.Bytes(), &pos)
	return pos, err
}
