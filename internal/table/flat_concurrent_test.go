package table

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tornVal is a value of three words that all derive from one number n =
// key<<32 | round, so that a reader can tell a torn read (words of two
// writes) from a consistent one.
type tornVal [3]uint64

func makeTorn(k, round uint64) tornVal {
	n := k<<32 | round
	return tornVal{n, n ^ 0x5555555555555555, n * 0x9E3779B97F4A7C15}
}

// consistent reports whether v is makeTorn(k, r) for some round r.
func (v tornVal) consistent(k uint64) bool {
	n := v[0]
	return n>>32 == k && v[1] == n^0x5555555555555555 && v[2] == n*0x9E3779B97F4A7C15
}

// TestFlatConcurrentReads: readers Find keys while one writer overwrites
// (through the spare slot: 3-word values), deletes, re-inserts and
// rebuilds. Every value read must be consistent (no torn read), and keys
// that are only ever overwritten must always be found (a key moving
// within its group must not be missed). Run it with -race. The writer
// goes on writing until every reader has completed a pass over the keys
// while it writes, however late the readers are scheduled.
func TestFlatConcurrentReads(t *testing.T) {
	const stable, churn = 6, 8                          // keys 1..stable are never deleted
	hash := func(k uint64) uint64 { return mix(k % 3) } // 3 homes, equal tags within a class
	f := newFlatModel[uint64, tornVal](t, hash)
	for k := uint64(1); k <= stable; k++ {
		f.store(k, makeTorn(k, 0))
	}
	var cur atomic.Pointer[Flat[uint64, tornVal]]
	cur.Store(f.t)
	var done atomic.Bool
	// ran counts the readers that completed a pass over the keys (each
	// counts itself once, after its first pass); the writer does not stop
	// before all have.
	var ran atomic.Int64
	readers := max(2, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !done.Load(); n++ {
				tb := cur.Load()
				for k := uint64(1); k <= stable+churn; k++ {
					v, ok := tb.Find(hash(k), k)
					if ok && !v.consistent(k) {
						t.Errorf("torn read of key %d: %#x", k, v)
						done.Store(true)
					}
					if !ok && k <= stable {
						t.Errorf("key %d, only ever overwritten, not found", k)
						done.Store(true)
					}
				}
				if n == 0 {
					ran.Add(1)
				}
			}
		}()
	}
	rounds := uint64(20000)
	if testing.Short() {
		rounds = 2000
	}
	for r := uint64(1); (r <= rounds || ran.Load() < int64(readers)) && !done.Load(); r++ {
		if r > rounds {
			runtime.Gosched() // let the late readers run
		}
		for k := uint64(1); k <= stable; k++ {
			f.store(k, makeTorn(k, r))
		}
		for k := uint64(stable + 1); k <= stable+churn; k++ {
			if _, in := f.m[k]; in && (k+r)%3 != 0 {
				f.del(k)
			} else {
				f.store(k, makeTorn(k, r))
			}
		}
		if r%200 == 0 {
			f.rebuild(f.t.Groups())
		}
		cur.Store(f.t)
	}
	done.Store(true)
	wg.Wait()
	f.check()
	if n := ran.Load(); n != int64(readers) && !t.Failed() {
		t.Fatalf("%d of %d readers completed a pass before the writer stopped", n, readers)
	}
}

// TestFlatReadersNeverWait: a writer stalled between the stores of a
// slot's words and the ctrl store that publishes them (an insert, and an
// overwrite through the spare slot) does not stop readers, and they see
// the map as it was before the write.
func TestFlatReadersNeverWait(t *testing.T) {
	same := func(uint64) uint64 { return 0 } // one group, equal tags
	for _, c := range []struct {
		name  string
		write func(tb *Flat[uint64, tornVal])
		after func(tb *Flat[uint64, tornVal]) bool
	}{
		{"insert", func(tb *Flat[uint64, tornVal]) {
			_, _, free, _ := tb.Locate(0, 5)
			tb.Insert(free, 0, 5, makeTorn(5, 1))
		}, func(tb *Flat[uint64, tornVal]) bool { v, ok := tb.Find(0, 5); return ok && v == makeTorn(5, 1) }},
		{"overwrite", func(tb *Flat[uint64, tornVal]) {
			pos, _, _, _ := tb.Locate(0, 1)
			tb.Replace(pos, 1, makeTorn(1, 1))
		}, func(tb *Flat[uint64, tornVal]) bool { v, ok := tb.Find(0, 1); return ok && v == makeTorn(1, 1) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := NewFlat[uint64, tornVal](1)
			for k := uint64(1); k <= 3; k++ {
				_, _, free, _ := tb.Locate(0, k)
				tb.Insert(free, 0, k, makeTorn(k, 0))
			}
			stalled, release, written := make(chan struct{}), make(chan struct{}), make(chan struct{})
			flatPublishHook = func() { close(stalled); <-release }
			go func() {
				defer close(written)
				c.write(tb)
			}()
			<-stalled
			read := make(chan string)
			go func() {
				for range 1000 {
					for k := uint64(1); k <= 5; k++ {
						v, ok := tb.Find(0, k)
						if ok != (k <= 3) || ok && v != makeTorn(k, 0) {
							read <- "saw the stalled write"
							return
						}
					}
				}
				read <- ""
			}()
			select {
			case msg := <-read:
				if msg != "" {
					t.Error(msg)
				}
			case <-time.After(20 * time.Second):
				t.Error("readers did not complete while a writer was stalled")
			}
			close(release)
			<-written
			flatPublishHook = nil
			if !c.after(tb) {
				t.Error("write not visible after it completed")
			}
			if err := tb.CheckInvariants(same, 3+btoi(c.name == "insert"), 0); err != nil {
				t.Error(err)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// resolve finishes a reader's Find of key in group 0, begun with the
// version and ctrl words ver and ctrl loaded earlier.
func resolve(tb *Flat[uint64, tornVal], key, ver, ctrl uint64) (tornVal, bool) {
	return tb.probe(0, key, &[2]uint64{ver, ctrl}, 0) // hash 0: group 0, tag 0
}

// TestFlatMissChecksVersion: a reader that loaded a group's ctrl word, then
// saw (after an overwrite moved its key within the group and an insert
// reused the key's old slot) another key in that slot, must not answer
// "absent": the version tells it to scan again.
func TestFlatMissChecksVersion(t *testing.T) {
	tb := NewFlat[uint64, tornVal](1)
	for k := uint64(1); k <= 2; k++ { // 1 in slot 0, 2 in slot 1
		_, _, free, _ := tb.Locate(0, k)
		tb.Insert(free, 0, k, makeTorn(k, 0))
	}
	grp := tb.group(0)
	ver, ctrl := atomic.LoadUint64(&grp[1]), atomic.LoadUint64(&grp[0]) // the reader starts
	pos, _, _, _ := tb.Locate(0, 1)
	if np := tb.Replace(pos, 1, makeTorn(1, 1)); np == pos { // key 1 moves to slot 2
		t.Fatal("Replace did not move key 1")
	}
	_, _, free, _ := tb.Locate(0, 3)
	if free != pos {
		t.Fatalf("key 3 goes to slot %d, want key 1's old slot %d", free, pos)
	}
	tb.Insert(free, 0, 3, makeTorn(3, 0))
	if v, ok := resolve(tb, 1, ver, ctrl); !ok || v != makeTorn(1, 1) {
		t.Fatalf("key 1, present throughout, read as %#x, %v", v, ok)
	}
}

// TestFlatHitChecksVersion: a reader that loaded a group's ctrl word, then
// read a slot that was freed and is being refilled (words written, ctrl
// not yet) must not return the unpublished value.
func TestFlatHitChecksVersion(t *testing.T) {
	tb := NewFlat[uint64, tornVal](1)
	_, _, free, _ := tb.Locate(0, 1)
	tb.Insert(free, 0, 1, makeTorn(1, 0))
	grp := tb.group(0)
	ver, ctrl := atomic.LoadUint64(&grp[1]), atomic.LoadUint64(&grp[0]) // the reader starts
	tb.Delete(free)
	reinsertUnseen(t, tb, free, ver, ctrl)
}

// reinsertUnseen re-inserts key 1 (hash 0), deleted from slot free, and
// fails if a reader that loaded ver and ctrl before the delete, reading
// while the insert's words are written and its ctrl byte is not, returns
// a value.
func reinsertUnseen(t *testing.T, tb *Flat[uint64, tornVal], free Pos, ver, ctrl uint64) {
	t.Helper()
	_, _, again, _ := tb.Locate(0, 1)
	if again != free {
		t.Fatalf("re-insert goes to slot %d, want %d", again, free)
	}
	var v tornVal
	var ok bool
	flatPublishHook = func() { v, ok = resolve(tb, 1, ver, ctrl) }
	defer func() { flatPublishHook = nil }()
	tb.Insert(again, 0, 1, makeTorn(1, 1))
	if ok {
		t.Fatalf("reader returned %#x, a value not yet published", v)
	}
}
