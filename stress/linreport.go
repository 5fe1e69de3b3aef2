package stress

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

// A history that is not linearizable is reported short enough to read:
// the first key whose operations have no linearization, cut down to the
// shortest closed prefix that has none, and at most linReportOps of its
// operations around the first one that cannot be placed.

// linReportOps bounds the operations a report lists.
const linReportOps = 24

// linReport describes a history that is not linearizable. If -stress.html
// names a directory, it also writes porcupine's visualization of the
// failing part there and names the file.
func linReport(s *state, round uint64, history []porcupine.Operation, keys []uint64) string {
	single := linModel
	single.Partition = nil
	for i, k := range keys {
		var ops []porcupine.Operation
		for _, op := range history {
			if op.Input.(linInput).key == k {
				ops = append(ops, op)
			}
		}
		slices.SortFunc(ops, func(x, y porcupine.Operation) int { return cmp.Compare(x.Call, y.Call) })
		if porcupine.CheckOperationsTimeout(single, ops, linTimeout) != porcupine.Illegal {
			continue
		}
		ops = shortestIllegalPrefix(single, ops)
		_, info := porcupine.CheckOperationsVerbose(single, ops, linTimeout)
		var b strings.Builder
		fmt.Fprintf(&b, "history not linearizable: the operations on key #%d, k = %d, have no linearization; the shortest part that has none is the first %d, by call:",
			i, k, len(ops))
		writeOps(&b, ops, firstUnplaced(info, len(ops)))
		b.WriteString("\n\t(a Range or Clear appears once per key it was projected onto; [call, return] on a shared clock)")
		b.WriteString(visualize(s, round, k, single, info))
		return b.String()
	}
	return "the history is not linearizable, but no key's operations alone fail the check again (timeout?)"
}

// shortestIllegalPrefix returns the shortest closed prefix of ops (sorted
// by call) that has no linearization: the first n operations, plus every
// operation called before one of them returned. An operation outside a
// closed prefix is called after every operation in it returned, so it
// comes after all of them in any linearization: if the prefix has none,
// neither has the whole. Being closed is kept by longer prefixes, so the
// shortest is found by bisection.
func shortestIllegalPrefix(model porcupine.Model, ops []porcupine.Operation) []porcupine.Operation {
	closed := func(n int) []porcupine.Operation {
		last := int64(-1)
		for _, op := range ops[:n] {
			last = max(last, op.Return)
		}
		for n < len(ops) && ops[n].Call < last {
			last = max(last, ops[n].Return)
			n++
		}
		return ops[:n]
	}
	lo, hi := 1, len(ops) // closed(hi) is illegal
	for lo < hi {
		mid := (lo + hi) / 2
		if porcupine.CheckOperationsTimeout(model, closed(mid), linTimeout) == porcupine.Illegal {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return closed(hi)
}

// firstUnplaced is the index of the first operation (by call) that the
// longest partial linearization porcupine found does not reach, or -1.
func firstUnplaced(info porcupine.LinearizationInfo, n int) int {
	parts := info.PartialLinearizations()
	if len(parts) != 1 {
		return -1
	}
	var longest []int
	for _, l := range parts[0] {
		if len(l) > len(longest) {
			longest = l
		}
	}
	for i := range n {
		if !slices.Contains(longest, i) {
			return i
		}
	}
	return -1
}

// writeOps lists at most linReportOps of ops, ending with the last, and
// including stall (marked) if it is not -1.
func writeOps(b *strings.Builder, ops []porcupine.Operation, stall int) {
	from := max(0, len(ops)-linReportOps)
	if stall >= 0 && stall < from {
		from = max(0, stall-linReportOps/2)
	}
	to := min(len(ops), from+linReportOps)
	if from > 0 {
		fmt.Fprintf(b, "\n\t… %d earlier operations not shown", from)
	}
	for i := from; i < to; i++ {
		op := ops[i]
		fmt.Fprintf(b, "\n\t[%4d, %4d] g%d %s", op.Call, op.Return, op.ClientId, describeOp(op.Input.(linInput), op.Output.(linOutput)))
		if i == stall {
			b.WriteString("    <- the first operation that cannot be placed")
		}
	}
	if to < len(ops) {
		fmt.Fprintf(b, "\n\t… %d later operations not shown", len(ops)-to)
	}
}

// visualize writes porcupine's visualization of info into the directory
// that -stress.html names, and says where; without the flag it says how to
// ask for one.
func visualize(s *state, round uint64, k uint64, model porcupine.Model, info porcupine.LinearizationInfo) string {
	dir := *htmlFlag
	if dir == "" {
		return "\n\t(for porcupine's visualization of it, replay with -stress.html DIR)"
	}
	name := fmt.Sprintf("stress-%s-seed%d-round%d-key%d.html",
		regexp.MustCompile(`[^A-Za-z0-9.-]+`).ReplaceAllString(s.t.Name(), "_"), s.cfg.seed, round, k)
	path := filepath.Join(dir, name)
	err := os.MkdirAll(dir, 0o755)
	var f *os.File
	if err == nil {
		f, err = os.Create(path)
	}
	if err == nil {
		err = porcupine.Visualize(model, info, f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Sprintf("\n\t(writing porcupine's visualization: %v)", err)
	}
	return fmt.Sprintf("\n\t(porcupine's visualization: %s)", path)
}
