// Package table is the engine of cmap: one open-addressing hash table whose
// reads take no lock and whose writes are made by a single writer at a time
// (the owner of the segment lock in package cmap).
//
// It is internal so that package cmap (the writer) and package snapshot (a
// reader of frozen tables) can share it without snapshot importing cmap.
package table

/*
Design

Terminology (one meaning per noun, used in every file of cmap and table):

  segment    a part of a cmap.Map: keys whose hash has the same top bits. It
             owns one table at a time and a lock that every writer holds.
  table      an open-addressing hash table: a power-of-two array of groups.
             Its shape (the groups slice) never changes once published; a
             table that must grow, shrink or drop tombstones is replaced
             whole by a new one (build-new-then-swap).
  group      one cache line: a ctrl word and 7 slots.
  ctrl       a word of 8 control bytes, one per slot; byte 7 is a sentinel.
             A control byte is EMPTY (0x80), TOMBSTONE (0xFE) or the 7-bit
             tag of the hash of the key in the slot (0x00..0x7F).
  slot       an atomic pointer to an entry, nil when no entry is published.
  entry      an immutable {key, value} pair. An update publishes a new entry.
  tag        7 bits of the hash (bits 32..38), stored in the ctrl byte to
             filter slots before comparing keys.
  tombstone  the ctrl byte of a deleted slot in a group with no EMPTY byte.
             Tombstones never end a probe.
  live       slots holding an entry.
  dead       tombstones.
  frozen     a table that a snapshot reads: no writer may change it again,
             ever. The next writer of its segment copies it first, and
             the copy is not frozen.
  pinned     a table that an iterator (Range, All, Keys, Values) is reading
             now: while it is pinned, the next writer of its segment copies
             it first, as for a frozen table. Pinning ends when the
             iteration leaves the segment; freezing never ends.
  layout     how a table holds its pairs: the entry layout (slots point to
             entries; described below) or the flat layout (slots hold the
             key and value words themselves, for pointer-free K and V;
             described in flat.go). A map uses one layout for all its
             tables; a Table holds either (layout.go).
  version    a flat group's word counting the frees of its slots, which
             readers check to detect a slot reused under them.

A group, 64 bytes on 64-bit platforms (one cache line):

  +--------+--------+--------+--------+--------+--------+--------+--------+
  | ctrl: c0 c1 c2 c3 c4 c5 c6 S (8 bytes, S = sentinel TOMBSTONE)         |
  +--------+--------+--------+--------+--------+--------+--------+--------+
  | slot0  | slot1  | slot2  | slot3  | slot4  | slot5  | slot6  |
  +--------+--------+--------+--------+--------+--------+--------+

so a Load of a large map touches two cache lines: the group and the entry.

Hash bits: the segment is chosen by the top bits of the hash, the home
group by the low bits (h & mask) and the tag by bits 32..38, so the three
are independent while a segment has fewer than 2^32 groups and the map
fewer than 2^25 segments.

Probing is linear over groups: start at the home group, match the tag in
the ctrl word with SWAR bit tricks (ctrl.go), compare keys of the matching
slots, and stop at the first group that has an EMPTY byte. Termination: the
load bound (live+dead <= 0.7 × capacity, see MaxUsed) leaves at least one
EMPTY byte in every table, and the probe wraps around the table, so it
meets a group with an EMPTY byte within len(groups) steps; the loop is
bounded by len(groups) anyway.

A group with no EMPTY byte never gets one until the table is rebuilt:
deletion writes TOMBSTONE in such a group, and writes EMPTY only in a
group that already has an EMPTY byte (every probe stops at such a group
anyway, so no key beyond it is cut off: the Swiss-table rule, which keeps
tombstones from piling up under churn). So a key that lies beyond group g
on its probe sequence stays reachable: g had no EMPTY byte when the key was
inserted, and never will have one while the key is in the table.

Memory ordering. Readers take no lock: they load the table pointer, ctrl
words and slot pointers with sync/atomic (every shared word is atomic, so
the race detector sees every access). A writer, holding the segment lock,
changes the ctrl byte FIRST and the slot pointer SECOND, both on insert and
on delete:

  insert into slot i:  ctrl[i] = tag;        slot[i] = e     (LP: slot store)
  delete of slot i:    ctrl[i] = TOMBSTONE or EMPTY; slot[i] = nil (LP: ctrl store)
  overwrite of slot i:                       slot[i] = e'    (LP: slot store)

The abstract map is {entry in slot i : ctrl[i] is a tag and slot[i] != nil}.
The obvious order for insert, slot then ctrl ("publish the entry, then make
it visible"), is incorrect here because tombstoned slots are reused: a
reader that loaded an old ctrl word with a matching tag, before the slot was
deleted, and then loads the slot after a re-insert has stored the new entry
but before its ctrl byte is written, would return a key that a later reader,
seeing TOMBSTONE, does not find. Writing the ctrl byte first closes that
window: a reader that sees an entry in a slot always sees it at an instant
at which it is in the abstract map (the argument is spelled out in
docs/design.md). A reader that meets a nil slot or a different key moves on.

A key never moves inside a published table (deletion leaves a tombstone,
nothing shifts), so a reader can never skip over a key that stays present.
All plain and atomic writes that fill a new table happen before the atomic
store that publishes its pointer, so a reader that sees the pointer sees the
whole table.
*/
