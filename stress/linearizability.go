package stress

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
)

// Linearizability: a few goroutines run short random histories of all nine
// operations (and LoadOrCompute with a slow f, for maps that have it) on
// three or four keys, with values 1 to 4 so that
// CompareAndSwap and CompareAndDelete often succeed, recording each
// operation's call and return on a shared atomic clock (an atomic counter
// read before the call and after the return orders operations as real time
// does). Porcupine then searches for a sequential order of each key's
// operations that respects those intervals and the sequential
// specification (linStep); there must be one.
//
// Range is in the model, projected onto each key: a Range that visited key
// k with value v is a Load of k that returned (v, true), one that did not
// visit k is a Load that returned (0, false), both taking effect somewhere
// within the Range's interval. That is exactly the guarantee of sync.Map's
// Range, key by key (a key present for the whole call is visited, a value
// reported was held during the call), without demanding a snapshot across
// keys, which it does not promise. A Range that visits a key twice or a key
// never used is reported before the check.

const (
	linMaxGoroutines = 8
	linOps           = 100 // operations per goroutine per history
	linValues        = 4   // values are 1..linValues
	// linTimeout bounds one porcupine check. A check that times out is
	// logged and counted as passing: the search is NP-hard in the worst
	// case, and a budget must hold.
	linTimeout = 3 * time.Second
)

// opKind names an operation of a history.
type opKind uint8

const (
	opLoad opKind = iota
	opStore
	opLoadOrStore
	opLoadAndDelete
	opDelete
	opSwap
	opCompareAndSwap
	opCompareAndDelete
	opRange
	opClear
	opLoadOrCompute
)

// computer is a map with a LoadOrCompute in the style of cmap's: it
// returns key's value if present (loaded true), else calls f, stores its
// result and returns it (loaded false). The linearizability scenario
// calls it, when the map has it, with an f that yields the processor
// several times, so that other operations on the key run while f does.
// Its sequential specification is LoadOrStore's, with f's value: the
// operation takes effect at one instant, whatever f's duration.
type computer interface {
	LoadOrCompute(key uint64, f func() uint64) (actual uint64, loaded bool)
}

// linInput is an operation and its arguments; for a Range or a Clear
// projected onto key, just the kind and key.
type linInput struct {
	kind opKind
	key  uint64
	a, b uint64 // value (Store, LoadOrStore, Swap; f's, LoadOrCompute); old, new (CompareAndSwap); old (CompareAndDelete)
}

// linOutput is an operation's result: (value, ok), or ok alone for
// CompareAndSwap and CompareAndDelete, or nothing for Store and Delete.
type linOutput struct {
	v  uint64
	ok bool
}

// linState is one key's state in the sequential specification: absent
// (the zero linState) or holding v.
type linState struct {
	v       uint64
	present bool
}

// linStep is the sequential specification of one key of a Map: whether an
// operation could have returned out in state st, and the state after it.
func linStep(st, input, output any) (bool, any) {
	s, in, out := st.(linState), input.(linInput), output.(linOutput)
	read := linOutput{s.v, s.present} // what a read returns now: (0, false) if absent
	switch in.kind {
	case opLoad, opRange:
		return out == read, s
	case opStore:
		return true, linState{in.a, true}
	case opLoadOrStore, opLoadOrCompute:
		if s.present {
			return out == linOutput{s.v, true}, s
		}
		return out == linOutput{in.a, false}, linState{in.a, true}
	case opLoadAndDelete:
		return out == read, linState{}
	case opDelete, opClear:
		return true, linState{}
	case opSwap:
		return out == read, linState{in.a, true}
	case opCompareAndSwap:
		if s.present && s.v == in.a {
			return out.ok, linState{in.b, true}
		}
		return !out.ok, s
	case opCompareAndDelete:
		if s.present && s.v == in.a {
			return out.ok, linState{}
		}
		return !out.ok, s
	}
	panic(fmt.Sprintf("stress: linStep: unknown operation %d", in.kind))
}

// linModel is the specification of a Map for porcupine, partitioned by key.
var linModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := make(map[uint64][]porcupine.Operation)
		var keys []uint64
		for _, op := range history {
			k := op.Input.(linInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		parts := make([][]porcupine.Operation, len(keys))
		for i, k := range keys {
			parts[i] = byKey[k]
		}
		return parts
	},
	Init: func() any { return linState{} },
	Step: linStep,
	Hash: func(st any) uint64 {
		s := st.(linState)
		if s.present {
			return s.v<<1 | 1
		}
		return 0
	},
	DescribeOperation: func(input, output any) string { return describeOp(input.(linInput), output.(linOutput)) },
	DescribeState: func(st any) string {
		if s := st.(linState); s.present {
			return fmt.Sprint(s.v)
		}
		return "absent"
	},
}

// describeOp formats an operation on its key (named k) and its result.
func describeOp(in linInput, out linOutput) string {
	switch in.kind {
	case opLoad:
		return fmt.Sprintf("Load(k) = (%d, %t)", out.v, out.ok)
	case opStore:
		return fmt.Sprintf("Store(k, %d)", in.a)
	case opLoadOrStore:
		return fmt.Sprintf("LoadOrStore(k, %d) = (%d, %t)", in.a, out.v, out.ok)
	case opLoadAndDelete:
		return fmt.Sprintf("LoadAndDelete(k) = (%d, %t)", out.v, out.ok)
	case opDelete:
		return "Delete(k)"
	case opSwap:
		return fmt.Sprintf("Swap(k, %d) = (%d, %t)", in.a, out.v, out.ok)
	case opCompareAndSwap:
		return fmt.Sprintf("CompareAndSwap(k, %d, %d) = %t", in.a, in.b, out.ok)
	case opCompareAndDelete:
		return fmt.Sprintf("CompareAndDelete(k, %d) = %t", in.a, out.ok)
	case opRange:
		if out.ok {
			return fmt.Sprintf("Range visited k = %d", out.v)
		}
		return "Range did not visit k"
	case opClear:
		return "Clear()"
	case opLoadOrCompute:
		return fmt.Sprintf("LoadOrCompute(k, slow f = %d) = (%d, %t)", in.a, out.v, out.ok)
	}
	return fmt.Sprintf("op%d", in.kind)
}

// kv is a key and value a Range visited.
type kv struct{ k, v uint64 }

// linRecord is one operation as its goroutine recorded it.
type linRecord struct {
	in        linInput
	out       linOutput
	seen      []kv // a Range's visits, in order
	call, ret int64
}

func linearizability(s *state, newMap func() Map) { linRounds(s, newMap, nil) }

// linRounds checks histories on fresh maps until the budget is spent. With
// bg (the Clear scenario), the clients also call Clear, and bg runs beside
// each history, on keys of its own, until the clients are done.
func linRounds(s *state, newMap func() Map, bg *background) {
	g := min(s.cfg.goroutines, linMaxGoroutines)
	var unknown, ops, overlapping, clears, computes int
	round := uint64(0)
	defer func() {
		s.logf("%d histories of %d goroutines × %d operations checked (%d Clears, %d slow LoadOrComputes; %.0f%% of operations overlapped another), %d too hard to check within %v",
			round, g, linOps, clears, computes, 100*float64(overlapping)/float64(max(ops, 1)), unknown, linTimeout)
	}()
	for ; !s.expired() || round == 0; round++ {
		rng := s.rng(round)
		keys := make([]uint64, 3+rng.IntN(2))
		for i := range keys {
			keys[i] = rng.Uint64() | 1<<63 // never a background key
		}
		m := newMap()
		var clr func()
		if bg != nil {
			clr = m.(clearer).Clear
		}
		var clock atomic.Int64
		records := make([][]linRecord, g)
		start := make(chan struct{})
		grp := s.group()
		for c := range g {
			grp.Go(func() {
				records[c] = linClient(m, clr, s.rng(round, uint64(c)), keys, &clock, start)
			})
		}
		stopBg := bg.start(s, m)
		close(start)
		grp.Wait()
		stopBg()
		if s.stopped() {
			return
		}

		history, bad := linHistory(records, keys, bg.ownsFunc())
		if bad != "" {
			s.errorf("round %d: %s", round, bad)
			return
		}
		ops += g * linOps
		overlapping += countOverlapping(records)
		clears += countKind(records, opClear)
		computes += countKind(records, opLoadOrCompute)
		switch porcupine.CheckOperationsTimeout(linModel, history, linTimeout) {
		case porcupine.Unknown:
			unknown++
			s.logf("round %d: porcupine gave up after %v; counted as passing", round, linTimeout)
		case porcupine.Illegal:
			s.errorf("round %d: %s", round, linReport(s, round, history, keys))
			return
		}
	}
}

// countKind counts the records of operations of kind k.
func countKind(records [][]linRecord, k opKind) int {
	n := 0
	for _, recs := range records {
		for _, r := range recs {
			if r.in.kind == k {
				n++
			}
		}
	}
	return n
}

// linClient runs one goroutine's history on m once start is closed, and
// returns its record. If m has LoadOrCompute (computer), 2 kinds in 22 are
// calls of it with a slow f; if clr is not nil, one more kind is a call of
// it, m's Clear.
func linClient(m Map, clr func(), rng *rand.Rand, keys []uint64, clock *atomic.Int64, start <-chan struct{}) []linRecord {
	kinds := 20
	lc, _ := m.(computer)
	if lc != nil {
		kinds += 2
	}
	if clr != nil {
		kinds++
	}
	recs := make([]linRecord, 0, linOps)
	last := make(map[uint64]uint64) // the value this goroutine last saw under each key
	val := func() uint64 { return 1 + uint64(rng.IntN(linValues)) }
	old := func(k uint64) uint64 {
		if v, ok := last[k]; ok && rng.IntN(3) != 0 {
			return v
		}
		return val()
	}
	<-start
	for range linOps {
		if rng.IntN(16) == 0 {
			// Hand the processor to another goroutine now and then, so
			// that on few cores every pair of goroutines gets to overlap,
			// not just the first two to start.
			runtime.Gosched()
		}
		k := keys[rng.IntN(len(keys))]
		r := linRecord{in: linInput{key: k}}
		switch x := rng.IntN(kinds); {
		case x < 4:
			r.in.kind = opLoad
			r.call = clock.Add(1)
			r.out.v, r.out.ok = m.Load(k)
		case x < 6:
			r.in.kind, r.in.a = opStore, val()
			r.call = clock.Add(1)
			m.Store(k, r.in.a)
		case x < 8:
			r.in.kind, r.in.a = opLoadOrStore, val()
			r.call = clock.Add(1)
			r.out.v, r.out.ok = m.LoadOrStore(k, r.in.a)
		case x < 10:
			r.in.kind = opLoadAndDelete
			r.call = clock.Add(1)
			r.out.v, r.out.ok = m.LoadAndDelete(k)
		case x < 11:
			r.in.kind = opDelete
			r.call = clock.Add(1)
			m.Delete(k)
		case x < 13:
			r.in.kind, r.in.a = opSwap, val()
			r.call = clock.Add(1)
			r.out.v, r.out.ok = m.Swap(k, r.in.a)
		case x < 16:
			r.in.kind, r.in.a, r.in.b = opCompareAndSwap, old(k), val()
			r.call = clock.Add(1)
			r.out.ok = m.CompareAndSwap(k, r.in.a, r.in.b)
		case x < 18:
			r.in.kind, r.in.a = opCompareAndDelete, old(k)
			r.call = clock.Add(1)
			r.out.ok = m.CompareAndDelete(k, r.in.a)
		case x < 20:
			r.in = linInput{kind: opRange}
			r.call = clock.Add(1)
			m.Range(func(k, v uint64) bool {
				r.seen = append(r.seen, kv{k, v})
				return true
			})
		case x < 22 && lc != nil:
			r.in.kind, r.in.a = opLoadOrCompute, val()
			yields := 1 + rng.IntN(8)
			r.call = clock.Add(1)
			r.out.v, r.out.ok = lc.LoadOrCompute(k, func() uint64 {
				for range yields { // slow: other operations on k run meanwhile
					runtime.Gosched()
				}
				return r.in.a
			})
		default:
			r.in = linInput{kind: opClear}
			r.call = clock.Add(1)
			clr()
		}
		r.ret = clock.Add(1)
		if r.out.ok && r.in.kind != opCompareAndSwap && r.in.kind != opCompareAndDelete {
			last[k] = r.out.v
		}
		recs = append(recs, r)
	}
	return recs
}

// countOverlapping counts the operations whose interval overlaps the
// interval of another goroutine's operation: the ones that test more than
// a sequential map would.
func countOverlapping(records [][]linRecord) int {
	type iv struct{ call, ret int64 }
	var all []iv
	for _, recs := range records {
		for _, r := range recs {
			all = append(all, iv{r.call, r.ret})
		}
	}
	slices.SortFunc(all, func(x, y iv) int { return cmp.Compare(x.call, y.call) })
	n := 0
	maxRet := int64(-1) // the latest return among operations called earlier
	for i, x := range all {
		overlaps := x.call < maxRet || (i+1 < len(all) && all[i+1].call < x.ret)
		if overlaps {
			n++
		}
		maxRet = max(maxRet, x.ret)
	}
	return n
}

// linHistory turns the goroutines' records into a porcupine history, each
// Range and Clear projected onto every key, or describes a Range that
// visited a key twice or a key never used. Keys that owns reports as the
// background's (owns may be nil) are left out.
func linHistory(records [][]linRecord, keys []uint64, owns func(k, v uint64) bool) ([]porcupine.Operation, string) {
	var history []porcupine.Operation
	for c, recs := range records {
		for _, r := range recs {
			switch r.in.kind {
			case opClear:
				for _, k := range keys {
					history = append(history, porcupine.Operation{
						ClientId: c, Input: linInput{kind: opClear, key: k}, Output: linOutput{}, Call: r.call, Return: r.ret})
				}
				continue
			case opRange:
			default:
				history = append(history, porcupine.Operation{ClientId: c, Input: r.in, Output: r.out, Call: r.call, Return: r.ret})
				continue
			}
			visits := make(map[uint64]uint64)
			for _, e := range r.seen {
				if owns != nil && owns(e.k, e.v) {
					continue
				}
				if _, dup := visits[e.k]; dup {
					return nil, fmt.Sprintf("goroutine %d: Range visited key %d twice in one call (it saw %v)", c, e.k, r.seen)
				}
				if !slices.Contains(keys, e.k) {
					return nil, fmt.Sprintf("goroutine %d: Range visited key %d, which was never stored (keys %v)", c, e.k, keys)
				}
				visits[e.k] = e.v
			}
			for _, k := range keys {
				v, ok := visits[k]
				history = append(history, porcupine.Operation{
					ClientId: c, Input: linInput{kind: opRange, key: k}, Output: linOutput{v, ok}, Call: r.call, Return: r.ret})
			}
		}
	}
	return history, ""
}
