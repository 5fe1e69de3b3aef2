package cmap_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// goCommand returns the path of the go command, or skips the test.
func goCommand(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is unavailable, so the generated code cannot be checked: %v", err)
	}
	return p
}

// buildInlineload builds testdata/inlineload into a temporary directory,
// with the compiler's inlining report if m is set (-gcflags=-m), and
// returns the go command, the binary and the build's output.
func buildInlineload(t *testing.T, m bool) (goCmd, bin string, out []byte) {
	t.Helper()
	goCmd = goCommand(t)
	bin = filepath.Join(t.TempDir(), "inlineload")
	args := []string{"build", "-o", bin, "./testdata/inlineload"}
	if m {
		args = append(args[:1], append([]string{"-gcflags=-m"}, args[1:]...)...)
	}
	out, err := exec.Command(goCmd, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return goCmd, bin, out
}

// objdump returns the disassembly of the functions of bin whose names
// match the regular expression fn.
func objdump(t *testing.T, goCmd, bin, fn string) string {
	t.Helper()
	dis, err := exec.Command(goCmd, "tool", "objdump", "-s", fn, bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool objdump: %v\n%s", err, dis)
	}
	return string(dis)
}

// TestLoadInlines checks the code that Load compiles to where it is
// instantiated, in a program that does not import sync/atomic
// (testdata/inlineload): the steps of the home-group probes inline into
// Load for one-word flat keys (uint64), flat keys of more than a word
// ([2]uint64), entry-layout keys (string to *int) and arena keys (string
// to int), one-word values are read with no buffer (Value1, not Value),
// and Load calls nothing
// else than the hasher, the longer probes, a zero Map's path, string
// comparison, stack growth and the explicit panics of the layout tag
// checks (runtime.gopanic, on branches never taken): no sync/atomic
// method, no bounds-check panic (runtime.panicIndex and its kin).
func TestLoadInlines(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		// On 32-bit platforms atomic.LoadUint64 is an assembly function,
		// not an intrinsic, so the steps cannot inline and Load calls it:
		// there is no call-free read path to check.
		t.Skipf("atomic.LoadUint64 is a call on %s, not an intrinsic: Load's read path is checked on amd64 and arm64", runtime.GOARCH)
	}
	goCmd, bin, out := buildInlineload(t, true)
	const (
		u64 = `go\.shape\.uint64,go\.shape\.uint64`
		arr = `go\.shape\.\[2\]uint64,go\.shape\.uint64`
		str = `go\.shape\.string,go\.shape\.\*uint8`
		ars = `go\.shape\.string,go\.shape\.int`
	)
	for _, want := range []string{
		`table\.\(\*Table\[` + u64 + `\]\)\.FlatHome`,
		`table\.FlatGroup\[` + u64 + `\]\.Find1`,
		`table\.FlatGroup\[` + u64 + `\]\.Settled`,
		`table\.FlatGroup\[` + u64 + `\]\.Moved`,
		`table\.\(\*Table\[` + arr + `\]\)\.FlatHome`,
		`table\.FlatGroup\[` + arr + `\]\.Matches`,
		`table\.FlatGroup\[` + arr + `\]\.Slot`,
		`table\.FlatGroup\[` + arr + `\]\.Key`,
		`table\.FlatGroup\[` + arr + `\]\.Value1`,
		`table\.FlatGroup\[` + arr + `\]\.Settled`,
		`table\.\(\*Table\[` + str + `\]\)\.EntryHome`,
		`table\.EntryGroup\[` + str + `\]\.Find`,
		`table\.EntryGroup\[` + str + `\]\.Stops`,
		`table\.\(\*Table\[` + ars + `\]\)\.ArenaHome`,
		`table\.ArenaGroup\[` + ars + `\]\.Matches`,
		`table\.ArenaGroup\[` + ars + `\]\.Slot`,
		`table\.ArenaGroup\[` + ars + `\]\.Ref`,
		`table\.ArenaGroup\[` + ars + `\]\.Check`,
		`table\.ArenaGroup\[` + ars + `\]\.Chunk`,
		`table\.ArenaGroup\[` + ars + `\]\.Is`,
		`table\.ArenaGroup\[` + ars + `\]\.Value1`,
		`table\.ArenaGroup\[` + ars + `\]\.Settled`,
		`table\.ArenaGroup\[` + ars + `\]\.Moved`,
		// the short-key path: hash and compare of 4 to 16 bytes
		`table\.\(\*Hasher\[go\.shape\.string\]\)\.ShortStr`,
		`table\.KeyWords\[go\.shape\.string\]`,
		`table\.\(\*Hasher\[go\.shape\.string\]\)\.StrMix`,
		`table\.ArenaGroup\[` + ars + `\]\.Short`,
	} {
		if !regexp.MustCompile(`map\.go:\d+:\d+: inlining call to ` + want).Match(out) {
			t.Errorf("Load does not inline %s", want)
		}
	}
	allowed := regexp.MustCompile(`\.\(\*Hasher\[.*\]\)\.Hash\(SB\)|\.loadZero\(SB\)|\.\(\*Table\[.*\]\)\.Find\(SB\)|\.\(\*Flat\[.*\]\)\.probe\(SB\)|\.\(\*Arena\[.*\]\)\.Find(After)?\(SB\)|runtime\.memequal\(SB\)|runtime\.morestack_noctxt|runtime\.gopanic\(SB\)`)
	for _, shape := range []string{u64, arr, str, ars} {
		dis := objdump(t, goCmd, bin, `cmap\.\(\*Map\[`+shape+`\]\)\.Load$`)
		calls := 0
		for _, line := range strings.Split(string(dis), "\n") {
			if dictCheck(line, "hash.go:") {
				t.Errorf("Load[%s] checks a dictionary in the inlined hash (see Hasher.IntHash): %s", shape, strings.TrimSpace(line))
			}
			if !strings.Contains(line, "\tCALL ") {
				continue
			}
			calls++
			if !allowed.MatchString(line) {
				t.Errorf("Load[%s] makes an unexpected call: %s", shape, strings.TrimSpace(line))
			}
		}
		if calls == 0 {
			t.Errorf("no Load[%s] found in the disassembly:\n%s", shape, dis)
		}
	}
}

// TestWritePathsCopyNoStructs checks the code of the write paths of flat
// (uint64 to uint64) and arena (string to int) maps, instantiated in
// testdata/inlineload, for 16-byte loads into X14 or X15 from memory: the
// copy of a struct or buffer built just before with narrower stores (a
// composite literal assigned through a pointer, a buffer returned by
// value), a load the CPU cannot forward from its store buffer, which
// stalls it for a dozen cycles. Each was found in a profile of a hot
// write (gopen's gwrite literal, putWords' returned buffer in every
// Replace, a writer returned by value); the write paths now set such
// values field by field or in place. amd64 only: the pattern is its
// compiler's.
func TestWritePathsCopyNoStructs(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("the copy pattern checked is amd64's; this is %s", runtime.GOARCH)
	}
	goCmd, bin, _ := buildInlineload(t, false)
	const (
		u64 = `go\.shape\.uint64,go\.shape\.uint64`
		ars = `go\.shape\.string,go\.shape\.int`
	)
	copyLoad := regexp.MustCompile(`\tMOVUPS [^X\t][^\t]*, X1[45]\b`)
	for _, fn := range []string{
		`cmap\.\(\*Map\[` + u64 + `\]\)\.swap`,
		`cmap\.\(\*Map\[` + u64 + `\]\)\.loadAndDelete`,
		`cmap\.\(\*state\[` + u64 + `\]\)\.swapEngine`,
		`cmap\.\(\*Map\[` + u64 + `\]\)\.deleteEngine`,
		`cmap\.\(\*Map\[` + u64 + `\]\)\.Compute`,
		`cmap\.\(\*state\[` + u64 + `\]\)\.computeEngine`,
		`cmap\.\(\*state\[` + u64 + `\]\)\.gopen`,
		`cmap\.\(\*state\[` + u64 + `\]\)\.gcompute`,
		`cmap\.\(\*gwrite\[` + u64 + `\]\)\.put`,
		`table\.\(\*Flat\[` + u64 + `\]\)\.Insert`,
		`table\.\(\*Flat\[` + u64 + `\]\)\.Replace`,
		`cmap\.\(\*Map\[` + ars + `\]\)\.swap`,
		`cmap\.\(\*Map\[` + ars + `\]\)\.loadAndDelete`,
		`cmap\.\(\*state\[` + ars + `\]\)\.swapEngine`,
		`cmap\.\(\*Map\[` + ars + `\]\)\.deleteEngine`,
		`cmap\.\(\*Map\[` + ars + `\]\)\.Compute`,
		`cmap\.\(\*state\[` + ars + `\]\)\.computeEngine`,
		`cmap\.\(\*writer\[` + ars + `\]\)\.open`,
		`cmap\.\(\*writer\[` + ars + `\]\)\.put`,
		`cmap\.\(\*writer\[` + ars + `\]\)\.remove`,
		`table\.\(\*Arena\[` + ars + `\]\)\.Insert`,
		`table\.\(\*Arena\[` + ars + `\]\)\.Replace`,
	} {
		dis := objdump(t, goCmd, bin, fn+`$`)
		if !strings.Contains(dis, "TEXT ") {
			t.Errorf("%s not found in the disassembly: renamed, or inlined everywhere?", fn)
			continue
		}
		for _, line := range strings.Split(string(dis), "\n") {
			if copyLoad.MatchString(line) {
				t.Errorf("%s copies through X14/X15: %s", fn, strings.TrimSpace(line))
			}
		}
	}
}

// dictCheck reports whether line, of go tool objdump's output, is an
// amd64 nil check (TESTB AL, 0(reg)) of code from the file named by
// file: in an inlined step of internal/table, the check of a dictionary
// that the step's own generic call needs, loaded just before, which
// costs its instantiation two instructions or more for nothing (see
// FlatHold and Hasher.IntHash). The steps have no pointer of their own
// to check.
func dictCheck(line, file string) bool {
	return runtime.GOARCH == "amd64" && strings.Contains(line, file) && strings.Contains(line, "TESTB AL, 0(")
}

// TestLightFlatWriteInlines checks the code of the light writes of a flat
// map of one-word keys and values (flatwrite.go), instantiated in
// testdata/inlineload (uint64 to uint64): Store, Delete and Compute call
// fwrite from a frame that defers nothing (Map.swap), fwrite inlines internal/table's FlatHold steps, and it calls
// nothing but the release stores, an insert's FlatHold.Insert (no
// method of sync/atomic's types, calls in a program that does not import
// it: the stripes' counts use its functions), the preparation test, the
// value compare of CompareAndSwap and CompareAndDelete, Compute's
// callback (fcall) and its panic on an invalid op, the hand-off's yield,
// the test hook (a call through a register), stack growth and Flat's
// layout panic.
func TestLightFlatWriteInlines(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("atomic.LoadUint64 is a call on %s, not an intrinsic: the light writes are checked on amd64 and arm64", runtime.GOARCH)
	}
	goCmd, bin, out := buildInlineload(t, true)
	const u64 = `go\.shape\.uint64,go\.shape\.uint64`
	for _, step := range []string{"TryLock", "Ctrl", "Match", "Slot", "Key", "Room", "KeyWord", "ValueWord", "DeleteWord", "Value", "Unlock", "UnlockBump"} {
		want := `flatwrite\.go:\d+:\d+: inlining call to table\.FlatHold\[` + u64 + `\]\.` + step + `\n`
		if !regexp.MustCompile(want).Match(out) {
			t.Errorf("fwrite does not inline FlatHold.%s", step)
		}
	}
	allowed := regexp.MustCompile(`release\.Store\.abi0\(SB\)|table\.FlatHold\[.*\]\.Insert\(SB\)|\.prepClaimable\(SB\)|table\.\(\*Flat\[.*\]\)\.probe\(SB\)|cmap\.fcall\[.*\]\(SB\)|fmt\.Sprintf\(SB\)|runtime\.(efaceeq|convT64|convTstring|mcall|gopanic)\(SB\)|runtime\.morestack_noctxt|\tCALL [A-Z0-9]+$`)
	stores := 0
	for _, line := range strings.Split(objdump(t, goCmd, bin, `cmap\.\(\*state\[`+u64+`\]\)\.fwrite$`), "\n") {
		if dictCheck(line, "flat_hold.go:") {
			t.Errorf("fwrite checks a dictionary in an inlined FlatHold step (see FlatHold): %s", strings.TrimSpace(line))
		}
		if !strings.Contains(line, "\tCALL ") {
			continue
		}
		if strings.Contains(line, "release.Store") {
			stores++
		}
		if !allowed.MatchString(strings.TrimSpace(line)) {
			t.Errorf("fwrite makes an unexpected call: %s", strings.TrimSpace(line))
		}
	}
	// An overwrite's two, a delete's one (an insert's are FlatHold.Insert's).
	if stores != 3 {
		t.Errorf("fwrite makes %d release stores, want 3: not found, or not written out", stores)
	}
	for _, fn := range []string{`swap`, `loadAndDelete`, `Compute`, `LoadOrStore`, `CompareAndSwap`, `CompareAndDelete`} {
		dis := objdump(t, goCmd, bin, `cmap\.\(\*Map\[`+u64+`\]\)\.`+fn+`$`)
		if !strings.Contains(dis, ".fwrite(SB)") {
			t.Errorf("Map.%s does not call fwrite", fn)
		}
		if strings.Contains(dis, "runtime.deferreturn(SB)") { // see Map.swap
			t.Errorf("Map.%s defers a call: the write engine's frame is back in the light write's path", fn)
		}
	}
}

// TestLightArenaWriteInlines checks the code of the light writes of short
// string keys of an arena map (arenawrite.go: aswap, acompute,
// adeleteShort), instantiated in testdata/inlineload (string to int):
// Store, Compute and Delete call them from a frame that defers nothing
// (Map.swap); they hash the key and probe its
// home group with internal/table's steps inlined, compare the key's words
// with no call (no runtime.memequal, no Arena.keyEq) and no dictionary
// check in a step, and call nothing but the release store of an update,
// the segment lock's slow paths and unlock, Arena.Locate for a key that
// its home group does not settle (and a delete's lock-free Arena.FindAfter
// or Find), ArenaGroup.Room for an insert's slot,
// the table's ValueAt and Replace for values of more than a word, the
// insert, the delete, the other hasher, the write engine's steps for the
// rest, Compute's callback and its panic, and the runtime's deferred
// calls, bounds and stack checks.
func TestLightArenaWriteInlines(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("atomic.LoadUint64 is a call on %s, not an intrinsic: the light writes are checked on amd64 and arm64", runtime.GOARCH)
	}
	goCmd, bin, out := buildInlineload(t, true)
	const ars = `go\.shape\.string,go\.shape\.int`
	for _, step := range []string{
		`table\.\(\*Table\[` + ars + `\]\)\.ArenaHome`,
		`table\.ArenaGroup\[` + ars + `\]\.Matches`,
		`table\.ArenaGroup\[` + ars + `\]\.Ref`,
		`table\.ArenaGroup\[` + ars + `\]\.Check`,
		`table\.ArenaGroup\[` + ars + `\]\.Chunk`,
		`table\.ArenaGroup\[` + ars + `\]\.Short`,
		`table\.ArenaGroup\[` + ars + `\]\.Pos`,
		`table\.ArenaGroup\[` + ars + `\]\.Value1`,
		`table\.ArenaGroup\[` + ars + `\]\.ValueWord`,
		`table\.KeyWords\[go\.shape\.string\]`,
		`table\.\(\*Hasher\[go\.shape\.string\]\)\.StrMix`,
	} {
		if !regexp.MustCompile(`arenawrite\.go:\d+:\d+: inlining call to ` + step).Match(out) {
			t.Errorf("the light arena writes do not inline %s", step)
		}
	}
	allowed := regexp.MustCompile(`release\.Store\.abi0\(SB\)|sync\.\(\*Mutex\)\.Lock\(SB\)|sync\.\(\*Mutex\)\.(lockSlow|unlockSlow)\(SB\)|` +
		`table\.\(\*Arena\[.*\]\)\.(Locate|ValueAt|Replace|Find|FindAfter)\(SB\)|table\.ArenaGroup\[.*\]\.Room\(SB\)|` +
		`cmap\.\(\*segment\[.*\]\)\.(ainsert|aremove)\(SB\)|cmap\.\(\*state\[.*\]\)\.(hash|unlockMu|aunlock|mustCheckSegment|resumePut|resumeDelete)\(SB\)|` +
		`cmap\.\(\*writer\[.*\]\)\.(swap|compute|remove|del|close|resume|init)\(SB\)|fmt\.Sprintf\(SB\)|` +
		`runtime\.(deferreturn|gopanic|panicBounds|convT64|convTstring)\(SB\)|runtime\.morestack_noctxt|\tCALL [A-Z0-9]+$`)
	for _, fn := range []string{"aswap", "acompute", "adeleteShort"} {
		calls := 0
		for _, line := range strings.Split(objdump(t, goCmd, bin, `cmap\.\(\*state\[`+ars+`\]\)\.`+fn+`$`), "\n") {
			if dictCheck(line, "arena_read.go:") || dictCheck(line, "arena_write.go:") || dictCheck(line, "hash.go:") {
				t.Errorf("%s checks a dictionary in an inlined step: %s", fn, strings.TrimSpace(line))
			}
			if !strings.Contains(line, "\tCALL ") {
				continue
			}
			calls++
			if !allowed.MatchString(strings.TrimSpace(line)) {
				t.Errorf("%s makes an unexpected call: %s", fn, strings.TrimSpace(line))
			}
		}
		if calls == 0 {
			t.Errorf("no %s found in the disassembly", fn)
		}
	}
	for fn, light := range map[string]string{
		"swap": "aswap", "loadAndDelete": "adeleteShort", "Compute": "acompute",
		"LoadOrStore": "aloadOrStore", "CompareAndSwap": "acompareAndSwap", "CompareAndDelete": "acompareAndDelete",
	} {
		dis := objdump(t, goCmd, bin, `cmap\.\(\*Map\[`+ars+`\]\)\.`+fn+`$`)
		if !strings.Contains(dis, "."+light+"(SB)") {
			t.Errorf("Map.%s does not call %s", fn, light)
		}
		// The frame the light write is called from holds no deferred
		// call: the write engine's writer and its deferred close are in
		// swapEngine, deleteEngine and computeEngine (see Map.swap).
		if strings.Contains(dis, "runtime.deferreturn(SB)") {
			t.Errorf("Map.%s defers a call: the write engine's frame is back in the light write's path", fn)
		}
	}
}
