package cmap_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/segmap/segmap/cmap"
)

// BenchmarkJSON compares json.Marshal and json.Unmarshal of a Map with
// those of the plain map[string]int holding the same entries: the Map
// builds that plain map from a snapshot and hands it to encoding/json, so
// it costs the plain map's time plus the copy.
//
//	go test ./cmap -run '^$' -bench JSON
func BenchmarkJSON(b *testing.B) {
	for _, n := range []int{1e3, 1e5} {
		plain := make(map[string]int, n)
		m := cmap.New[string, int]()
		for i := range n {
			k := "key-" + strconv.Itoa(i)
			plain[k] = i
			m.Store(k, i)
		}
		data, _ := json.Marshal(plain)
		b.Run(fmt.Sprintf("Marshal/n=%d/plain", n), func(b *testing.B) {
			for b.Loop() {
				_, _ = json.Marshal(plain)
			}
		})
		b.Run(fmt.Sprintf("Marshal/n=%d/Map", n), func(b *testing.B) {
			for b.Loop() {
				_, _ = json.Marshal(m)
			}
		})
		b.Run(fmt.Sprintf("Unmarshal/n=%d/plain", n), func(b *testing.B) {
			for b.Loop() {
				var p map[string]int
				_ = json.Unmarshal(data, &p)
			}
		})
		b.Run(fmt.Sprintf("Unmarshal/n=%d/Map", n), func(b *testing.B) {
			for b.Loop() {
				var z cmap.Map[string, int]
				_ = json.Unmarshal(data, &z)
			}
		})
	}
}
