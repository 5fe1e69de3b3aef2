package table

import (
	"reflect"
	"sync/atomic"
	"unsafe"
)

// The arena layout: string keys in byte arenas, values inline, for K whose
// underlying type is string and a pointer-free V of at most flatMaxBytes
// (ArenaFits). docs/design.md, "Arena layout", is the essay. In brief, as
// the code below relies on it:
//
//	group g = words[g*stride : (g+1)*stride]
//	word 0          ctrl, stored XOR flatCtrl (a zeroed group is empty)
//	word 1          version: bumped after every ctrl store that frees a slot
//	words 2+i*sw..  slot i: its ref word, then vw value words (sw = 1+vw)
//
// The groups are a flat table's, with the key's words replaced by one ref
// word naming the key's record in the table's arena: a list of
// pointer-free byte chunks (the directory) that only grows. A record is
// the key's length as a uvarint and then its bytes; the writer writes it
// once, before the ref that names it is stored, and nothing ever writes
// those bytes again. A ref is
//
//	bits 48..63  check: bits 40..55 of the key's hash, compared before
//	             the arena is read, so that a tag's false positive
//	             rarely costs a cache miss
//	bits 24..47  the chunk's index in the directory
//	bits  0..23  the record's offset in the chunk
//
// Readers follow the flat protocol (version, ctrl, slot words, version
// again: see flat.go), loading the directory after the ref and comparing
// the record's bytes with plain reads: see "Memory ordering" below.
//
// Memory ordering of the arena bytes. The writer's plain stores of a
// record's bytes, and its atomic store of a directory that holds the
// record's chunk, come before its atomic store of the ref word. A reader
// reaches the bytes only through a ref it loaded atomically; if that load
// observes the ref's store, the store synchronizes before it (the Go
// memory model: atomics are sequentially consistent), so the bytes'
// stores happen before the reader's plain loads of them, and the
// directory the reader loads afterwards holds the chunk. The bytes are
// never stored again (records are appended, never overwritten; a chunk's
// bytes past its records are written only by appends, and no ref names
// them until then), so there is no write for a plain read to race with.
// A ref loaded from a slot whose ctrl the reader holds stale is still a
// ref this table published (slots are written whole before their ctrl
// byte), so its record is complete; the version check then discards the
// answer if the slot changed.
//
// Strings handed out (Range, At, the keys of Copy's hash calls) are
// unsafe.String views of a record's bytes: they point into a chunk, so
// the garbage collector keeps the chunk alive while any of them lives,
// after the table is dropped; and the bytes never change, so the string
// is immutable as Go requires.

// Arena geometry.
const (
	// arenaChunkBytes is the largest chunk that holds several records;
	// chunks start at arenaFirstChunk bytes and double up to it, so that
	// a small table does not take 64 KiB. A record larger than it gets
	// a chunk of its own, of its size.
	arenaChunkBytes = 64 << 10
	arenaFirstChunk = 256
	// arenaMaxChunks is the most chunks a table's directory holds
	// (24-bit index); arenaMaxOffset bounds a record's offset (24 bits).
	arenaMaxChunks = 1 << 24
	arenaMaxOffset = 1 << 24
	// arenaMinGarbage is the garbage a table may hold whatever its live
	// bytes: below it, a compaction would cost more than it frees.
	arenaMinGarbage = 4 << 10
)

// ArenaFits reports whether maps of K and V use arena tables (when they
// keep no insertion order): K's underlying type is string, and V holds
// no pointers and is at most flatMaxBytes bytes.
func ArenaFits[K comparable, V any]() bool {
	k, v := reflect.TypeFor[K](), reflect.TypeFor[V]()
	return k.Kind() == reflect.String && pointerFree(v) && v.Size() <= flatMaxBytes
}

// arenaDir is a published directory of an arena: chunks[i] is chunk i,
// each at its full length (the bytes past its records are never read).
// Immutable once stored in Arena.dir; a new chunk publishes a new one.
type arenaDir struct {
	chunks [][]byte
}

// Arena is an open-addressing hash table of string keys in byte arenas
// and values inline (see the comment at the top of this file). Its shape
// is fixed at creation; only its words and arena change, by the writer of
// its segment, until it is replaced or frozen.
type Arena[K comparable, V any] struct {
	// words holds the groups, stride words each; len(words) == groups ×
	// stride with groups a power of two >= 1. Written only by the
	// segment's writer, atomically once the table is published; read by
	// anyone, atomically.
	words []uint64
	header
	// vw is the words of a value (<= flatMaxWords); sw == 1+vw and
	// stride == flatHeader + SlotsPerGroup*sw. sp is 1 in a spare table
	// (vw >= 2), else 0, with Flat's meaning.
	vw, sw, stride int
	sp             uint64
	// dir is the *arenaDir readers load: it holds every chunk that a
	// published ref names. Stored (atomically, loadDir and storeDir) by
	// the writer before any ref to a new chunk; never nil. An
	// unsafe.Pointer, not an atomic.Pointer, so that the read path's
	// load is an intrinsic wherever the map is instantiated (see
	// flat_read.go).
	dir unsafe.Pointer

	// _ keeps the writer's fields below off the cache lines of the
	// readers' fields above (dir above all, which every Load of a key
	// whose tag and check bits match loads): the writer changes them on
	// every insert and delete, and on a line shared with dir, each such
	// write would cost the next reader on another core a cache miss. It
	// is 128 bytes, a pair of 64-byte lines, which x86 cores fetch
	// together (as striped's pad), so that no line of the pair holding
	// dir holds a writer's field, whatever the struct's alignment.
	_ [128]byte

	// The writer's fields, read and written by the writer only (under
	// the segment lock), never by readers.

	// chunks == loadDir().chunks, as the writer appends to it.
	chunks [][]byte
	// tail is the index of the chunk that records are appended to, or -1
	// (none yet, or given away to a clone); used is its bytes in use.
	tail, used int
	// liveBytes is the bytes of the records of the live slots; garbage
	// the bytes of records written in this table's arena (or inherited
	// by Clone) that no live slot names; last the bytes of the record
	// deleted last, 0 if none since the arena was built (last <=
	// garbage). The garbage bound: garbage - last <= max(liveBytes,
	// arenaMinGarbage) between writes (cmap compacts before a delete
	// would break it: NeedsCompact). The last record is left out
	// because a compaction before its delete cannot reclaim it.
	liveBytes, garbage, last int
}

// NewArena returns an empty arena table of n groups; n must be a power of
// two >= 1 and ArenaFits[K, V]() must hold.
func NewArena[K comparable, V any](n int) *Arena[K, V] {
	if n < 1 || n&(n-1) != 0 {
		panic("table: group count is not a power of two")
	}
	if !ArenaFits[K, V]() {
		panic("table: NewArena: " + reflect.TypeFor[K]().String() + " → " + reflect.TypeFor[V]().String() + " does not fit an arena table")
	}
	vw := wordsOf[V]()
	t := &Arena[K, V]{header: header{mask: uint64(n - 1)}, vw: vw, sw: 1 + vw, stride: flatHeader + SlotsPerGroup*(1+vw), tail: -1}
	if vw >= 2 {
		t.sp = 1
	}
	t.words = make([]uint64, n*t.stride) // zeroed: empty groups
	t.storeDir(&arenaDir{})
	return t
}

// loadDir returns the published directory.
func (t *Arena[K, V]) loadDir() *arenaDir { return (*arenaDir)(atomic.LoadPointer(&t.dir)) }

// storeDir publishes d.
func (t *Arena[K, V]) storeDir(d *arenaDir) { atomic.StorePointer(&t.dir, unsafe.Pointer(d)) }

// Spare reports whether t keeps a spare slot in every group (vw >= 2).
func (t *Arena[K, V]) Spare() bool { return t.sp != 0 }

// checkOf returns the check bits of hash h, as they sit in a ref.
// (Generic to inline: see word in ctrl.go.)
func checkOf[W word](h W) W { return h >> 40 << 48 }

// refCheck masks a ref's check bits.
const refCheck = 0xFFFF << 48

// keyString returns key as a string (K's underlying type is string:
// ArenaFits, checked by NewArena, so the two share a representation).
func keyString[K any](key *K) string { return *(*string)(unsafe.Pointer(key)) }

// stringKey is the inverse of keyString.
func stringKey[K any](s string) K { return *(*K)(unsafe.Pointer(&s)) }

// group returns the words of group g. (wordsOf written out, as in
// Flat.group.)
func (t *Arena[K, V]) group(g uint64) []uint64 {
	var v V
	stride := flatHeader + SlotsPerGroup*(1+int(unsafe.Sizeof(v)+7)>>3)
	b := int(g) * stride
	return t.words[b : b+stride : b+stride]
}

// record returns the bytes of the key that ref names in directory
// chunks, and false if ref names no complete record (which a ref of this
// table never does; checked all the same, so that a bug reads a wrong key
// rather than out of bounds). The bytes are read plainly: see "Memory
// ordering of the arena bytes".
func record(chunks [][]byte, ref uint64) ([]byte, bool) {
	c, off := ref>>24&(arenaMaxChunks-1), ref&(arenaMaxOffset-1)
	if c >= uint64(len(chunks)) {
		return nil, false
	}
	ch := chunks[c]
	if off >= uint64(len(ch)) {
		return nil, false
	}
	n, w := uint64(ch[off]), uint64(1)
	if n >= 0x80 {
		n, w = uvarint(ch[off:])
		if w == 0 {
			return nil, false
		}
	}
	b := ch[off+w:]
	if n > uint64(len(b)) {
		return nil, false
	}
	return b[:n:n], true
}

// uvarint decodes a uvarint from b, returning it and its length, or 0, 0
// if b holds none (at most 10 bytes are read).
func uvarint(b []byte) (uint64, uint64) {
	var x uint64
	var s uint
	for i, c := range b {
		if i == 10 {
			return 0, 0
		}
		if c < 0x80 {
			return x | uint64(c)<<s, uint64(i + 1)
		}
		x |= uint64(c&0x7F) << s
		s += 7
	}
	return 0, 0
}

// uvarintLen returns the length of n as a uvarint.
func uvarintLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

// bytesString returns a string over b's bytes, with no copy. The bytes
// must never change again: arena records do not (see the file comment).
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// keyEq reports whether ref names a record holding s, loading the
// directory after ref was loaded (see "Memory ordering of the arena
// bytes"): the length first, then the bytes.
func (t *Arena[K, V]) keyEq(ref uint64, s string) bool {
	chunks := t.loadDir().chunks
	if n := uint64(len(s)); n <= 16 {
		// With no call to runtime.memequal: ArenaGroup.Short checks the
		// record's one-byte length (a record of another length fails it:
		// a length of 0x80 or more has its high bit set) and its bounds,
		// then the bytes of a key of 4 to 16 bytes are compared as
		// KeyWords, which identify a key of one length, those of a
		// shorter one byte by byte.
		c := ref >> 24 & (arenaMaxChunks - 1)
		if c >= uint64(len(chunks)) {
			return false
		}
		ch := chunks[c]
		if n == 0 {
			off := ref & (arenaMaxOffset - 1)
			return off < uint64(len(ch)) && ch[off] == 0
		}
		r := ArenaGroup[K, V]{}.Short(ch, ref, n) // Short reads neither g's fields
		if r == "" {
			return false
		}
		if n >= 4 {
			a, b := KeyWords(r)
			x, y := KeyWords(s)
			return a == x && b == y
		}
		for i := range n {
			if r[i] != s[i] {
				return false
			}
		}
		return true
	}
	b, ok := record(chunks, ref)
	return ok && len(b) == len(s) && string(b) == s
}

// loadValue returns the value of the slot at word s of grp (the value's
// words follow the ref word).
func (t *Arena[K, V]) loadValue(grp []uint64, s int) V { return loadWords[V](grp, s+1) }

// Find returns the value of key and true, or false if key is absent. It
// takes no lock, never waits, and may run concurrently with the table's
// writer: the protocol of Flat.Find, with the keys compared in the arena
// (see the file comment).
func (t *Arena[K, V]) Find(h uint64, key K) (V, bool) {
	v, p, _ := t.probe(h, keyString(&key), nil, 0)
	return v, p != NoPos
}

// FindAfter is Find for a caller that probed key's home group itself
// (cmap's Load, with ArenaHome) and found that it neither holds key nor
// stops probes, with its version unchanged: the probe goes on from the
// next group, as Find's would. With one group, the home group is probed
// again, and a miss there ends the probe.
func (t *Arena[K, V]) FindAfter(h uint64, key K) (V, bool) {
	v, p, _ := t.probe(h, keyString(&key), nil, 1)
	return v, p != NoPos
}

// Lookup is Find, for a writer about to lock key's segment: it also
// returns key's slot and the ref word it held (NoPos and 0 if key is
// absent), which the writer, once it holds the lock, checks with Holds
// instead of probing again.
func (t *Arena[K, V]) Lookup(h uint64, key K) (V, Pos, uint64) {
	return t.probe(h, keyString(&key), nil, 0)
}

// Holds reports whether slot p holds ref now: whether its ctrl byte is a
// tag (the slot is full) and its ref word is ref. Called by the writer of
// t (which changes nothing meanwhile) with a slot and ref that Lookup
// returned for a key k in this table, true means that p holds k: a ref
// names one record of the table's arena (records are appended at fresh
// offsets, never moved within a table: a compaction makes a new table),
// whose bytes, which Lookup compared with k, never change.
func (t *Arena[K, V]) Holds(p Pos, ref uint64) bool {
	grp := t.group(uint64(p) >> 3)
	return byteAt(loadCtrl(grp), int(p&7)) < ctrlEmpty && atomic.LoadUint64(&grp[flatHeader+int(p&7)*t.sw]) == ref
}

// probe is Lookup. If stale is not nil, the probe starts with stale[0] and
// stale[1] as the version and stored ctrl words of key's home group, as
// if it had loaded them earlier (tests).
// The probe starts from the group from places after the home group (0
// or 1: FindAfter), counting the groups skipped as probed: it ends at a
// group that stops probes or after mask+1 groups, home group included.
func (t *Arena[K, V]) probe(h uint64, key string, stale *[2]uint64, from uint64) (V, Pos, uint64) {
	sw := 1 + wordsOf[V]()
	tw := tagWord[uint64](tagOf(h))
	chk := checkOf(h)
	g := (h + from) & t.mask
	grp := t.group(g)
	var ver, stored uint64
	if stale == nil {
		ver = atomic.LoadUint64(&grp[1])
		stored = atomic.LoadUint64(&grp[0])
	} else {
		ver, stored = stale[0], stale[1]
	}
	var v V
	for n := from; ; {
		ctrl := stored ^ flatCtrl
		hit, pos, ref := false, NoPos, uint64(0)
		for m := matchWord(ctrl, tw); m != 0; m &= m - 1 {
			i := slotOf(m)
			s := flatHeader + i*sw
			if ref = atomic.LoadUint64(&grp[s]); ref&refCheck == chk && t.keyEq(ref, key) {
				v, hit, pos = t.loadValue(grp, s), true, Pos(g<<3)+Pos(i)
				break
			}
		}
		// As in Flat.probe: the answer stands only if no slot of the group
		// was freed meanwhile.
		if atomic.LoadUint64(&grp[1]) != ver {
			ver = atomic.LoadUint64(&grp[1])
			stored = atomic.LoadUint64(&grp[0])
			continue
		}
		if hit {
			return v, pos, ref
		}
		if stops(matchEmpty(ctrl), t.sp) || n >= t.mask {
			var zero V
			return zero, NoPos, 0
		}
		n++
		g = (g + 1) & t.mask
		grp = t.group(g)
		ver = atomic.LoadUint64(&grp[1])
		stored = atomic.LoadUint64(&grp[0])
	}
}

// keyAt returns the key of the slot at word s of grp as a string over its
// record. Only the writer, or a reader of a frozen table, can rely on it.
func (t *Arena[K, V]) keyAt(grp []uint64, s int) string {
	b, ok := record(t.loadDir().chunks, atomic.LoadUint64(&grp[s]))
	if !ok {
		panic("table: internal error: arena ref names no record")
	}
	return bytesString(b)
}

// At returns the key and value in slot p, which holds a key; the key is a
// string over the table's arena (see the file comment). Only the writer,
// or a reader of a frozen table, can rely on the answer.
func (t *Arena[K, V]) At(p Pos) (K, V) {
	grp := t.group(uint64(p) >> 3)
	s := flatHeader + int(p&7)*t.sw
	return stringKey[K](t.keyAt(grp, s)), t.loadValue(grp, s)
}

// Range calls yield for each key and value in the table, in slot order,
// until yield returns false; it reports whether it ran to the end. The
// keys are strings over the arena: they stay valid, and unchanged, after
// the table is dropped. Callers iterate frozen (or pinned) tables only.
func (t *Arena[K, V]) Range(yield func(K, V) bool) bool {
	for g := range uint64(t.Groups()) {
		grp := t.group(g)
		for m := matchFull(loadCtrl(grp)); m != 0; m &= m - 1 {
			s := flatHeader + slotOf(m)*t.sw
			if !yield(stringKey[K](t.keyAt(grp, s)), t.loadValue(grp, s)) {
				return false
			}
		}
	}
	return true
}

// ValueAt returns the value in slot p, which holds a key. Only the
// writer, or a reader of a frozen table, can rely on the answer.
func (t *Arena[K, V]) ValueAt(p Pos) V {
	return t.loadValue(t.group(uint64(p)>>3), flatHeader+int(p&7)*t.sw)
}

// ArenaBytes returns the bytes of the arena's records: those of live keys
// and the garbage, records that no live slot names (Stats, tests).
func (t *Arena[K, V]) ArenaBytes() (live, garbage int) { return t.liveBytes, t.garbage }
