package stress

import (
	"encoding/binary"

	"github.com/segmap/segmap/cmap"
)

// boxedCmap is a Map over a cmap.Map whose values hold a pointer (an 8-byte
// string per uint64): the scenarios then torture a layout whose entries the
// garbage collector must scan, whatever layout cmap uses for pointer-free
// values.
type boxedCmap struct{ m *cmap.Map[uint64, string] }

func newBoxedCmap() Map { return boxedCmap{cmap.New[uint64, string]()} }

func box(v uint64) string { return string(binary.BigEndian.AppendUint64(nil, v)) }

// unboxString returns the uint64 in s, if ok; else (0, false).
func unboxString(s string, ok bool) (uint64, bool) {
	if !ok {
		return 0, false
	}
	return binary.BigEndian.Uint64([]byte(s)), true
}

func (b boxedCmap) Load(k uint64) (uint64, bool) { return unboxString(b.m.Load(k)) }
func (b boxedCmap) Store(k, v uint64)            { b.m.Store(k, box(v)) }
func (b boxedCmap) Delete(k uint64)              { b.m.Delete(k) }
func (b boxedCmap) Clear()                       { b.m.Clear() }

func (b boxedCmap) LoadOrStore(k, v uint64) (uint64, bool) {
	a, loaded := b.m.LoadOrStore(k, box(v))
	x, _ := unboxString(a, true)
	return x, loaded
}

func (b boxedCmap) LoadAndDelete(k uint64) (uint64, bool) { return unboxString(b.m.LoadAndDelete(k)) }
func (b boxedCmap) Swap(k, v uint64) (uint64, bool)       { return unboxString(b.m.Swap(k, box(v))) }

func (b boxedCmap) CompareAndSwap(k, old, new uint64) bool {
	return b.m.CompareAndSwap(k, box(old), box(new))
}

func (b boxedCmap) CompareAndDelete(k, old uint64) bool { return b.m.CompareAndDelete(k, box(old)) }

func (b boxedCmap) Range(f func(k, v uint64) bool) {
	b.m.Range(func(k uint64, s string) bool {
		v, _ := unboxString(s, true)
		return f(k, v)
	})
}

func (b boxedCmap) DeleteFunc(del func(k, v uint64) bool) int {
	return b.m.DeleteFunc(func(k uint64, s string) bool {
		v, _ := unboxString(s, true)
		return del(k, v)
	})
}
