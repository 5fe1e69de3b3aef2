package stress_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/segmap/segmap/cmap"
	"github.com/segmap/segmap/stress"
)

// point is a struct key, as users' maps have.
type point struct{ x, y uint32 }

// TestRunOf puts cmap with string keys and struct values, and with struct
// keys and string values, through RunOf, briefly.
func TestRunOf(t *testing.T) {
	hex := stress.Codec[string]{
		To: func(x uint64) string { return fmt.Sprintf("%016x", x) },
		From: func(s string) uint64 {
			x, err := strconv.ParseUint(s, 16, 64)
			if err != nil {
				panic(fmt.Sprintf("not a key or value of the harness: %q", s))
			}
			return x
		},
	}
	points := stress.Codec[point]{
		To:   func(x uint64) point { return point{uint32(x >> 32), uint32(x)} },
		From: func(p point) uint64 { return uint64(p.x)<<32 | uint64(p.y) },
	}
	opts := stress.Options{Duration: 200 * time.Millisecond}
	t.Run("string-keys", func(t *testing.T) {
		stress.RunOf(t, func() stress.MapOf[string, point] { return cmap.New[string, point]() }, hex, points, opts)
	})
	t.Run("struct-keys", func(t *testing.T) {
		stress.RunOf(t, func() stress.MapOf[point, string] { return cmap.New[point, string]() }, points, hex, opts)
	})
}
