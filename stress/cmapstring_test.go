package stress

import (
	"strconv"
	"strings"

	"github.com/segmap/segmap/cmap"
)

// stringCmap is a Map over a cmap.Map whose keys are strings (stringKey
// of each uint64): the scenarios then torture the arena layout, whose keys
// live in byte arenas that writers append to and compactions rebuild
// while readers compare them.
type stringCmap struct{ m *cmap.Map[string, uint64] }

func newStringCmap() Map { return stringCmap{cmap.New[string, uint64]()} }

// stringKey returns the string key of k: its decimal digits, then k%150
// bytes of padding (NUL bytes and invalid UTF-8), so that keys of many
// lengths, below and above Load's inline limit of 0x80 bytes, meet in the
// same groups.
func stringKey(k uint64) string {
	return strconv.FormatUint(k, 10) + "/" + strings.Repeat("\x00\xff", int(k%150)/2)
}

// unkey is stringKey's inverse.
func unkey(s string) uint64 {
	n, err := strconv.ParseUint(s[:strings.IndexByte(s, '/')], 10, 64)
	if err != nil {
		panic("stress: not a key of stringKey: " + s)
	}
	return n
}

func (s stringCmap) Load(k uint64) (uint64, bool) { return s.m.Load(stringKey(k)) }
func (s stringCmap) Store(k, v uint64)            { s.m.Store(stringKey(k), v) }
func (s stringCmap) Delete(k uint64)              { s.m.Delete(stringKey(k)) }
func (s stringCmap) Clear()                       { s.m.Clear() }

func (s stringCmap) LoadOrStore(k, v uint64) (uint64, bool) { return s.m.LoadOrStore(stringKey(k), v) }
func (s stringCmap) LoadAndDelete(k uint64) (uint64, bool)  { return s.m.LoadAndDelete(stringKey(k)) }
func (s stringCmap) Swap(k, v uint64) (uint64, bool)        { return s.m.Swap(stringKey(k), v) }

func (s stringCmap) CompareAndSwap(k, old, new uint64) bool {
	return s.m.CompareAndSwap(stringKey(k), old, new)
}

func (s stringCmap) CompareAndDelete(k, old uint64) bool {
	return s.m.CompareAndDelete(stringKey(k), old)
}

func (s stringCmap) Range(f func(k, v uint64) bool) {
	s.m.Range(func(k string, v uint64) bool { return f(unkey(k), v) })
}

func (s stringCmap) DeleteFunc(del func(k, v uint64) bool) int {
	return s.m.DeleteFunc(func(k string, v uint64) bool { return del(unkey(k), v) })
}
