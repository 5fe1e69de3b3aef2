package cmap_test

// Helpers shared by cmap's tests: panic catchers, hashers, waiting, and
// checks of a map's state. The reference models are in model_test.go.
// (waitFor, within and bothLayouts are in loadorcompute_test.go,
// forEachLayout in deletefunc_test.go.)

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/segmap/segmap/cmap"
)

// Panic catchers. Each is recovered plus a check.

// recovered calls f and returns what it panicked with, or nil.
func recovered(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

// mustPanic calls f and fails unless it panics with a message containing
// want.
func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	r := recovered(f)
	if r == nil {
		t.Fatalf("no panic, want one containing %q", want)
	}
	msg := ""
	switch r := r.(type) {
	case string:
		msg = r
	case error:
		msg = r.Error()
	}
	if !strings.Contains(msg, want) {
		t.Fatalf("panic %q, want one containing %q", msg, want)
	}
}

// fullError calls f and returns the error it panicked with; it fails if f
// does not panic or panics with something other than an error.
func fullError(t *testing.T, f func()) error {
	t.Helper()
	r := recovered(f)
	if r == nil {
		t.Fatal("no panic")
	}
	err, ok := r.(error)
	if !ok {
		t.Fatalf("panic with %T %v, not an error", r, r)
	}
	return err
}

// mustPanicFull checks that f, an insert into a full RejectNew map, panics
// with an error wrapping ErrFull; what names the call in the failure.
func mustPanicFull(t *testing.T, what string, f func()) {
	t.Helper()
	err, _ := recovered(f).(error)
	if !errors.Is(err, cmap.ErrFull) {
		t.Fatalf("%s on a full RejectNew map panicked with %v, want an error wrapping ErrFull", what, err)
	}
}

// panicMessage calls f and returns what it panicked with, formatted, or
// "no panic".
func panicMessage(f func()) string {
	r := recovered(f)
	if r == nil {
		return "no panic"
	}
	return fmt.Sprint(r)
}

// Hashers.

// hashers are the hashers every conformance test runs under: the default,
// a seeded deterministic one, one that varies only in its low bits, and a
// constant one (every key collides: the worst case of probing).
var hashers = []struct {
	name string
	opts []cmap.Option
}{
	{"default", nil},
	{"xxhash", []cmap.Option{cmap.WithHasher(xxhashU64), cmap.WithSeed(42)}},
	{"lowbits", []cmap.Option{cmap.WithHasher(func(_ uint64, k uint64) uint64 { return k & 0xFF })}},
	{"constant", []cmap.Option{cmap.WithHasher(constantHash[uint64](7))}},
	{"onesegment", []cmap.Option{cmap.WithSegments(1)}},
}

func xxhashU64(seed, k uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], k)
	var d xxhash.Digest
	d.ResetWithSeed(seed)
	_, _ = d.Write(b[:])
	return d.Sum64()
}

// forEachHasher runs f as a subtest under each hasher, with a constructor
// of maps using it.
func forEachHasher(t *testing.T, f func(t *testing.T, newMap func(...cmap.Option) *cmap.Map[uint64, uint64])) {
	for _, h := range hashers {
		t.Run("hasher="+h.name, func(t *testing.T) {
			t.Parallel()
			f(t, func(opts ...cmap.Option) *cmap.Map[uint64, uint64] {
				return cmap.New[uint64, uint64](append(slices.Clone(h.opts), opts...)...)
			})
		})
	}
}

// constantHash returns a hasher that hashes every key to h: every key
// collides.
func constantHash[K any](h uint64) func(uint64, K) uint64 {
	return func(uint64, K) uint64 { return h }
}

// goldenHash spreads int keys by Fibonacci hashing, deterministically.
func goldenHash(k int) uint64 { return uint64(k) * 0x9E3779B97F4A7C15 }

// poisonHasher returns a hasher of int keys that panics on key bad while
// *on is set.
func poisonHasher(on *atomic.Bool, bad int) cmap.Option {
	return cmap.WithHasher(func(_ uint64, k int) uint64 {
		if on.Load() && k == bad {
			panic("hasher exploded")
		}
		return goldenHash(k)
	})
}

// safeFrom: keys at or above it hash normally even while the bomb is
// armed, so that a write of such a key gets past its own hash to its
// segment lock and meets the panic only when it rehashes the other keys.
const safeFrom = 1 << 20

// bomb is a hasher that panics, while armed, on every key below safeFrom.
type bomb struct{ armed atomic.Bool }

func (b *bomb) hash(_ uint64, k int) uint64 {
	if k < safeFrom && b.armed.Load() {
		panic("hasher exploded")
	}
	return uint64(k)
}

// explode runs f with the bomb armed and reports whether it panicked; a
// panic other than the bomb's fails the test.
func (b *bomb) explode(t *testing.T, f func()) (panicked bool) {
	t.Helper()
	b.armed.Store(true)
	defer b.armed.Store(false)
	r := recovered(f)
	if r != nil && r != "hasher exploded" {
		t.Fatalf("panic %v, want the hasher's", r)
	}
	return r != nil
}

// Waiting.

// finishes runs f in a goroutine and fails the test if it has not
// returned after a grace period long enough for a loaded machine: what a
// deadlock looks like. A panic in f is returned.
func finishes(t *testing.T, what string, f func()) (panicked any) {
	t.Helper()
	done := make(chan any, 1)
	go func() { done <- recovered(f) }()
	select {
	case p := <-done:
		return p
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: still running after 30 s: deadlock", what)
		return nil
	}
}

// watchdog crashes the test binary, naming what, unless the returned stop
// is called within a grace period long enough for a loaded machine: for
// code that must not hang but calls t.Fatal, which finishes cannot run.
func watchdog(what string) (stop func()) {
	timer := time.AfterFunc(30*time.Second, func() {
		panic(what + ": still running after 30 s: deadlock or endless loop")
	})
	return func() { timer.Stop() }
}

// waits reports whether f is still running after a short while (it
// waits for something) and returns a channel closed when it returns.
func waits(f func()) (bool, chan struct{}) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
		return false, done
	case <-time.After(50 * time.Millisecond):
		return true, done
	}
}

// Checks of a map's state.

func check(t *testing.T, m interface{ CheckInvariants() error }) {
	t.Helper()
	if err := m.CheckInvariants(); err != nil {
		t.Fatal(err)
	}
}

func contents[K comparable, V any](m *cmap.Map[K, V]) map[K]V {
	got := make(map[K]V)
	for k, v := range m.All() {
		got[k] = v
	}
	return got
}

// mustBeUnlocked fails if any segment lock of m is held.
func mustBeUnlocked(t *testing.T, m interface{ LockedSegments() []int }) {
	t.Helper()
	if l := m.LockedSegments(); len(l) != 0 {
		t.Fatalf("segments %v left locked", l)
	}
}
