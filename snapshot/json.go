package snapshot

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON encodes the snapshot's entries as encoding/json encodes a
// map[K]V holding them: [json.Marshal] of a Snapshot gives exactly the
// bytes and errors that it gives for that plain map. The same keys are
// accepted (of string and integer kinds, and those implementing
// [encoding.TextMarshaler], written as JSON strings, sorted); any other
// key type fails with a [json.UnsupportedTypeError], even for an empty
// snapshot. Values are encoded by encoding/json's rules, including those
// implementing [json.Marshaler], and a value that cannot be encoded (a
// NaN, a failing MarshalJSON) fails as it does in the plain map.
//
// It builds that plain map and hands it to encoding/json, which is what
// makes it exact: it allocates the plain map besides the encoding, and
// takes the plain map's encoding time plus that copy and encoding/json's
// check of a Marshaler's output (measured by BenchmarkJSON in package
// cmap).
//
// Like every [json.Marshaler], it leaves '<', '>' and '&' in strings
// unescaped: json.Marshal and [json.Encoder] escape them, or not (see
// [json.Encoder.SetEscapeHTML]), exactly as they do for the plain map.
// The error returned when json.Marshal calls it is the plain map's error
// wrapped in a [json.MarshalerError] naming the Snapshot type.
//
// Its receiver is a value, so that a Snapshot copied by value (held in a
// struct field of type Snapshot, say) is encoded by it too, not as the
// struct's exported fields: there are none, and the result would be {}.
func (s Snapshot[K, V]) MarshalJSON() ([]byte, error) {
	plain := make(map[K]V, s.Len())
	for k, v := range s.All() {
		plain[k] = v
	}
	return marshalPlain(plain)
}

// marshalPlain returns encoding/json's encoding of plain, without HTML
// escaping and without the Encoder's trailing newline.
func marshalPlain[K comparable, V any](plain map[K]V) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(plain); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}
