package cmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
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
// as when decoding into a non-nil plain map. The zero Map works.
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
	st := m.state()
	keys := slices.Collect(maps.Keys(plain))
	if x := st.extra; x != nil && x.ordered {
		keys = documentOrder(data, plain)
	}
	if x := st.extra; x != nil && x.policy == RejectNew {
		return m.tryStoreAll(keys, plain, int(x.maxLen))
	}
	for _, k := range keys {
		m.Store(k, plain[k])
	}
	return nil
}

// tryStoreAll stores plain's entries in m, a RejectNew map bounded to
// maxLen, in the order of keys, unless the new keys do not fit.
func (m *Map[K, V]) tryStoreAll(keys []K, plain map[K]V, maxLen int) error {
	added := 0
	for k := range plain {
		if _, ok := m.Load(k); !ok {
			added++
		}
	}
	if n := m.Len(); n+added > maxLen {
		return fmt.Errorf("%w: UnmarshalJSON of %d new keys into a map holding %d of WithMaxLen(%d, RejectNew)",
			ErrFull, added, n, maxLen)
	}
	for i, k := range keys {
		if err := m.TryStore(k, plain[k]); err != nil {
			return fmt.Errorf("cmap: UnmarshalJSON: stored %d of %d entries: %w", i, len(keys), err)
		}
	}
	return nil
}

// documentOrder returns the keys of plain, decoded from the JSON object
// data, in the order of their last occurrence in data. It finds the
// positions by decoding, with the same key rules, an object with data's
// keys whose values are their positions.
func documentOrder[K comparable, V any](data []byte, plain map[K]V) []K {
	keys := slices.Collect(maps.Keys(plain))
	pos, err := keyPositions[K](data)
	if err != nil {
		return keys // data decoded once already; not reached
	}
	slices.SortStableFunc(keys, func(a, b K) int { return pos[a] - pos[b] })
	return keys
}

// keyPositions decodes data's keys as map[K]V's keys are decoded, and
// returns the position of each key's last occurrence.
func keyPositions[K comparable](data []byte) (map[K]int, error) {
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
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
		quoted, _ := json.Marshal(key)
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(quoted)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(i))
	}
	b.WriteByte('}')
	var pos map[K]int
	err := json.Unmarshal(b.Bytes(), &pos)
	return pos, err
}
