package table

// Frozen is the state of a whole map at one instant: the tables of its
// segments, none of which any writer will change again. It is what package
// cmap hands to package snapshot.
type Frozen[K comparable, V any] struct {
	// Hasher is the map's hasher (immutable).
	Hasher *Hasher[K]
	// Shift selects the segment: Tables[h>>Shift].
	Shift uint
	// Tables[i] is segment i's table, frozen.
	Tables []*Table[K, V]
	// Len is the number of entries in all of Tables.
	Len int
}
