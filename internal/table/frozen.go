package table

// Frozen is the state of a whole map at one instant: the tables of its
// segments, none of which any writer will change again. It is what package
// cmap hands to package snapshot.
type Frozen[K comparable, V any] struct {
	// Hasher is the map's hasher (immutable).
	Hasher *Hasher[K]
	// Shift and Mask select the segment: Tables[h>>Shift&Mask].
	Shift uint
	Mask  uint64
	// Tables[i] is segment i's table, frozen.
	Tables []*Table[K, V]
	// Len is the number of entries in all of Tables.
	Len int
	// Logs is nil unless the map keeps insertion order; then Logs[i] is
	// segment i's insertion log as it was when Tables[i] was frozen
	// (shared with the map, never written again): seqs increase along it,
	// and a record is valid iff Tables[i].At(r.Pos) == r.Entry. Every
	// entry of Tables[i] has exactly one valid record.
	Logs [][]Record[K, V]
}

// Table returns the table of the segment of hash h.
func (f *Frozen[K, V]) Table(h uint64) *Table[K, V] { return f.Tables[h>>(f.Shift&63)&f.Mask] }
