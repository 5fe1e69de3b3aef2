package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults: the representative subset that `go run ./bench` runs in about
// two minutes on two cores.
const (
	defaultWorkloads = "load-hit,mix-90,mix-50,grow,memory"
	defaultKeys      = "uint64"
	defaultN         = "1e6"
	defaultProcs     = "1,all"
	defaultOversub   = "1"
	defaultDuration  = 250 * time.Millisecond
	defaultReps      = 3

	// -full: every workload, size, key type and configuration of
	// docs/benchmarks.md.
	fullWorkloads = "all"
	fullKeys      = "both"
	fullN         = "1e3,1e6"
	fullProcs     = "1,2,all"
	fullOversub   = "1,8"

	maxN = 100_000_000
)

// commandName is how the header shows the command: "go run ./bench" when
// run through go run, else the binary's name.
var commandName = "bench"

func main() {
	if exe := os.Args[0]; strings.Contains(exe, "go-build") {
		commandName = "go run ./bench"
	} else {
		commandName = filepath.Base(exe)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options is the parsed command line.
type options struct {
	workloads []*workload
	impls     []*impl
	keys      []string // "uint64", "string"
	ns        []int
	procs     []int // GOMAXPROCS values, ascending
	oversub   []int // goroutines per P, ascending
	duration  time.Duration
	warmup    time.Duration
	reps      int
	seed      uint64
	csvPath   string
	svgDir    string
	replot    string // a CSV to redraw charts from; nothing runs
	checkDocs bool   // check the documents' ratios against the committed CSV; nothing runs
	full      bool
	command   string
}

// usageErr is a bad command line: exit code 2.
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &usageErr{msg: fmt.Sprintf(format, args...)}
}

// run is main without os.Exit: 0 on success, 1 if a run failed, 2 for a
// bad command line.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		fmt.Fprintf(stderr, "run '%s -h' for usage\n", commandName)
		return 2
	}
	if o.checkDocs {
		if err := checkDocs(".", stdout); err != nil {
			fmt.Fprintf(stderr, "bench: -check-docs: %v\n", err)
			return 1
		}
		return 0
	}
	if o.replot != "" {
		files, err := replot(o.replot, o.svgDir)
		if err != nil {
			fmt.Fprintf(stderr, "bench: -replot: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %d charts to %s\n", len(files), o.svgDir)
		return 0
	}
	r, err := newRunner(o, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if err := r.run(); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

func parseArgs(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by run, usage on -h only
	var (
		workloadsF = fs.String("workloads", defaultWorkloads, "comma list of workloads, or all: "+strings.Join(workloadNames(), ", "))
		mapsF      = fs.String("maps", "all", "comma list of maps, or all: "+strings.Join(implIDs(), ", "))
		keysF      = fs.String("keys", defaultKeys, "key types: uint64, string or both (comma list)")
		nF         = fs.String("n", defaultN, "comma list of map sizes N, e.g. 1e3,1e6")
		procsF     = fs.String("procs", defaultProcs, "comma list of GOMAXPROCS values; all = NumCPU")
		oversubF   = fs.String("oversub", defaultOversub, "comma list of goroutines per P (oversubscription factor); goroutines = procs × oversub")
		durationF  = fs.Duration("duration", defaultDuration, "length of each timed measurement")
		warmupF    = fs.Duration("warmup", 0, "warm-up before each measurement (default: half of -duration)")
		repsF      = fs.Int("reps", defaultReps, "repetitions per measurement; the median is reported")
		seedF      = fs.Uint64("seed", 1, "seed of the per-goroutine key sequences")
		csvF       = fs.String("csv", "", "also write every figure to this CSV `file`")
		svgF       = fs.String("svg", "", "also write SVG charts into this `dir`")
		fullF      = fs.Bool("full", false, "the run of docs/benchmarks.md: all workloads, N=1e3,1e6, both key types, procs 1,2,all, oversub 1,8 (explicit flags still win)")
		replotF    = fs.String("replot", "", "run nothing: redraw the charts of this CSV `file` (written by -csv) into the -svg dir")
		checkF     = fs.Bool("check-docs", false, "run nothing: check that the ratios quoted in README.md and docs/choosing.md are those of docs/img/results.csv (run from the repository root)")
	)
	fs.Usage = func() {} // Parse calls it on every error; usage is printed for -h only
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs, stderr)
			return nil, err
		}
		return nil, usageError("%v", err)
	}
	if fs.NArg() > 0 {
		return nil, usageError("unexpected argument %q (flags only)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["replot"] {
		return replotArgs(*replotF, *svgF, set)
	}
	if *checkF {
		if len(set) > 1 {
			return nil, usageError("-check-docs takes no other flag")
		}
		return &options{checkDocs: true}, nil
	}
	if *fullF {
		full := map[string]*string{"workloads": workloadsF, "keys": keysF, "n": nF, "procs": procsF, "oversub": oversubF}
		fullVals := map[string]string{"workloads": fullWorkloads, "keys": fullKeys, "n": fullN, "procs": fullProcs, "oversub": fullOversub}
		for name, p := range full {
			if !set[name] {
				*p = fullVals[name]
			}
		}
	}

	o := &options{duration: *durationF, reps: *repsF, seed: *seedF, csvPath: *csvF, svgDir: *svgF, full: *fullF}
	var err error
	if o.workloads, err = parseWorkloads(*workloadsF); err != nil {
		return nil, err
	}
	if o.impls, err = selectImpls(*mapsF); err != nil {
		return nil, err
	}
	if o.keys, err = parseKeys(*keysF); err != nil {
		return nil, err
	}
	if o.ns, err = parseNs(*nF); err != nil {
		return nil, err
	}
	if o.procs, err = parseProcs(*procsF); err != nil {
		return nil, err
	}
	if o.oversub, err = parsePositiveList("-oversub", *oversubF); err != nil {
		return nil, err
	}
	if o.duration <= 0 {
		return nil, usageError("-duration %v: must be positive", o.duration)
	}
	o.warmup = o.duration / 2
	if set["warmup"] {
		if *warmupF < 0 {
			return nil, usageError("-warmup %v: must not be negative", *warmupF)
		}
		o.warmup = *warmupF
	}
	if o.reps < 1 {
		return nil, usageError("-reps %d: must be at least 1", o.reps)
	}
	o.command = commandLine(args)
	return o, nil
}

// replotArgs checks a -replot command line: it needs -svg and takes no
// flag that would change a run.
func replotArgs(csvPath, svgDir string, set map[string]bool) (*options, error) {
	if csvPath == "" {
		return nil, usageError("-replot: no CSV file given")
	}
	if svgDir == "" {
		return nil, usageError("-replot %s: needs -svg DIR, where the charts go", csvPath)
	}
	for name := range set {
		if name != "replot" && name != "svg" {
			return nil, usageError("-replot takes only -svg, not -%s: it runs nothing", name)
		}
	}
	return &options{replot: csvPath, svgDir: svgDir}, nil
}

func printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, `Usage: %s [flags]

Compares cmap with sync.Map, xsync v3 MapOf, xsync v4 Map, map+RWMutex and
the single-goroutine built-in map (the floor) on the workloads of
docs/benchmarks.md. Markdown tables go to stdout, progress to stderr.
-replot FILE -svg DIR redraws the charts of a CSV without running.
-check-docs checks the ratios quoted in README.md and docs/choosing.md
against docs/img/results.csv without running.

With no flags (about two minutes on 2 cores):
  -workloads %s -keys %s -n %s -procs %s

Flags:
`, commandName, defaultWorkloads, defaultKeys, defaultN, defaultProcs)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintf(w, "\nWorkloads:\n")
	for _, wl := range workloads {
		fmt.Fprintf(w, "  %-9s %s\n", wl.name, wl.desc)
	}
	fmt.Fprintf(w, "\nMaps:\n")
	for _, im := range registry {
		fmt.Fprintf(w, "  %-9s %s\n", im.id, im.label)
	}
}

// commandLine renders the command as a shell would need it.
func commandLine(args []string) string {
	parts := []string{commandName}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// splitList splits a comma list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseWorkloads(list string) ([]*workload, error) {
	valid := strings.Join(workloadNames(), ", ")
	if strings.TrimSpace(list) == "all" {
		return slices.Clone(workloads), nil
	}
	var out []*workload
	for _, name := range splitList(list) {
		w := lookupWorkload(name)
		if w == nil {
			return nil, usageError("unknown workload %q; valid workloads: %s (or all)", name, valid)
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return nil, usageError("-workloads: no workload given; valid workloads: %s (or all)", valid)
	}
	// Run in the canonical order whatever the order on the command line.
	slices.SortFunc(out, func(a, b *workload) int {
		return slices.Index(workloads, a) - slices.Index(workloads, b)
	})
	return out, nil
}

func parseKeys(list string) ([]string, error) {
	var u, s bool
	for _, k := range splitList(list) {
		switch strings.ToLower(k) {
		case "uint64", "u64":
			u = true
		case "string", "str":
			s = true
		case "both", "all":
			u, s = true, true
		default:
			return nil, usageError("-keys: unknown key type %q; valid: uint64, string, both", k)
		}
	}
	var out []string
	if u {
		out = append(out, "uint64")
	}
	if s {
		out = append(out, "string")
	}
	if len(out) == 0 {
		return nil, usageError("-keys: no key type given; valid: uint64, string, both")
	}
	return out, nil
}

// parseN parses a map size: 1000, 1e6, 2.5e5 or 1_000_000.
func parseN(s string) (int, error) {
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || math.IsNaN(f) || f != math.Trunc(f) {
		return 0, usageError("-n: %q is not a whole number (forms: 1000, 1e6)", s)
	}
	if f < 1 || f > maxN {
		return 0, usageError("-n: %s is out of range [1, %g]", s, float64(maxN))
	}
	return int(f), nil
}

func parseNs(list string) ([]int, error) {
	var out []int
	for _, f := range splitList(list) {
		n, err := parseN(f)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, usageError("-n: no size given")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parseProcs(list string) ([]int, error) {
	var out []int
	for _, f := range splitList(list) {
		if strings.EqualFold(f, "all") {
			out = append(out, runtime.NumCPU())
			continue
		}
		p, err := strconv.Atoi(f)
		if err != nil || p < 1 {
			return nil, usageError("-procs: %q is neither a positive number nor all", f)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, usageError("-procs: no value given")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parsePositiveList(flagName, list string) ([]int, error) {
	var out []int
	for _, f := range splitList(list) {
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, usageError("%s: %q is not a positive number", flagName, f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, usageError("%s: no value given", flagName)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// fmtN renders a size the way the flags take it: 1e6, 1000, 2.5e5.
func fmtN(n int) string {
	for e, p := 3, 1000; p <= maxN; e, p = e+1, p*10 {
		if n == p {
			return "1e" + strconv.Itoa(e)
		}
	}
	return strconv.Itoa(n)
}
