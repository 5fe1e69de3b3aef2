// Package striped is lock striping as a library, in the spirit of Guava's
// Striped: a fixed set of cache-line padded mutexes addressed by index
// ([Stripes], [RWStripes]) or by a key's hash ([Striped], [RWStriped]),
// multi-locks taken in one global order so that they cannot deadlock
// ([Stripes.LockIndices], [Striped.LockKeys], [Stripes.LockAll]), and a
// sharded counter ([Counter]); docs/guarantees.md in the repository states
// what each of them promises.
package striped
