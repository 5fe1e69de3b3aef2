package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// -check-docs: the ratios that README.md and docs/choosing.md quote must be
// those of the run in docs/img/results.csv.
//
// Every ratio the documents quote ("0.55–0.57×", "0.30×") is followed by
// an HTML comment, invisible once rendered, that says how to compute it
// from the CSV:
//
//	0.55–0.57×<!-- check: cmap/xsync4 load-hit uint64 1e3 ops/s -->
//
// that is: map cmap's figure divided by map xsync4's, for the workload(s),
// key type(s), size(s) and metric given (comma lists allowed), over every
// (procs, goroutines) cell of the CSV that has both, optionally narrowed
// by p=1,2 (GOMAXPROCS) and gpp=1,8 (goroutines per P); several such
// queries joined by ";" take the union of their cells. The range of those
// ratios must be the quoted one: its ends may differ from the quoted ends
// by at most one unit of the quoted last digit (0.01 for "0.55"), the
// spread that the quoted precision states. A single figure ("0.30×") must
// hold the whole range, unless the marker ends with "only=max" (the
// figure is a maximum: "up to 6.8×") or "only=min". A ratio that the CSV cannot give (an earlier
// measurement, a per-core figure) is followed by
// <!-- unchecked: the reason --> instead; a ratio followed by neither
// fails the check, so that a new figure cannot go in unchecked.
//
// A count of cells ("in 38 of the 40") is followed by a count marker:
//
//	38 of the 40<!-- count: xsync4>cmap load-hit,mix-50 uint64 1e3 ops/s p=2 -->
//
// with the cells selected as for check, and A>B (or A<B) the comparison
// counted: the first number must be how many of the selected cells it
// holds in, the second how many cells there are; a count marker with no
// "N of M" before it fails the check.

// checkedDocs are the documents -check-docs reads, relative to the
// repository root.
var checkedDocs = []string{"README.md", "docs/choosing.md"}

// resultsCSV is the CSV of the run the documents quote, relative to the
// repository root.
const resultsCSV = "docs/img/results.csv"

var (
	// ratioRE matches a quoted ratio and what follows it: a marker or not.
	ratioRE = regexp.MustCompile(`(\d+(?:\.\d+)?)(?:–(\d+(?:\.\d+)?))?×(\s*<!--\s*(check|unchecked):(.*?)-->)?`)
	// countRE matches a count of cells and its marker.
	countRE = regexp.MustCompile(`(\d+)\s+of\s+(?:the\s+)?(\d+)[^<]{0,40}?<!--\s*count:(.*?)-->`)
)

// cellKey names one figure of the CSV.
type cellKey struct {
	workload, keys, n, procs, goroutines, impl, metric string
}

// results is the CSV, by cell.
type results map[cellKey]float64

func readResults(r io.Reader) (results, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != "workload,keys,n,procs,goroutines,map,metric,value" {
		return nil, fmt.Errorf("not a results CSV of go run ./bench -csv (header %v)", recs[:min(1, len(recs))])
	}
	res := make(results, len(recs))
	for _, rec := range recs[1:] {
		v, err := strconv.ParseFloat(rec[7], 64)
		if err != nil {
			return nil, fmt.Errorf("value %q: %v", rec[7], err)
		}
		res[cellKey{rec[0], rec[1], rec[2], rec[3], rec[4], rec[5], rec[6]}] = v
	}
	return res, nil
}

// query is a parsed check marker.
type query struct {
	a, b                string
	workloads, keys, ns []string
	metric              string
	procs, perP         []string // empty: any
}

func parseQuery(s string) (query, error) {
	var q query
	f := strings.Fields(s)
	var pos []string
	for _, w := range f {
		switch {
		case strings.HasPrefix(w, "p="):
			q.procs = strings.Split(w[2:], ",")
		case strings.HasPrefix(w, "gpp="):
			q.perP = strings.Split(w[4:], ",")
		default:
			pos = append(pos, w)
		}
	}
	if len(pos) != 5 {
		return q, fmt.Errorf("want A/B WORKLOADS KEYS N METRIC [p=...] [gpp=...], got %q", strings.TrimSpace(s))
	}
	ab := strings.Split(pos[0], "/")
	if len(ab) != 2 {
		return q, fmt.Errorf("%q: want a ratio of two maps, A/B", pos[0])
	}
	q.a, q.b = ab[0], ab[1]
	q.workloads = strings.Split(pos[1], ",")
	q.keys = strings.Split(pos[2], ",")
	for _, n := range strings.Split(pos[3], ",") {
		x, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return q, fmt.Errorf("size %q: %v", n, err)
		}
		q.ns = append(q.ns, strconv.Itoa(int(x)))
	}
	q.metric = pos[4]
	return q, nil
}

// ratios returns the range of A's figure over B's in the cells q selects,
// and how many cells that is.
func (res results) ratios(q query) (lo, hi float64, cells int) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for k, av := range res {
		if k.impl != q.a || k.metric != q.metric ||
			!slices.Contains(q.workloads, k.workload) || !slices.Contains(q.keys, k.keys) || !slices.Contains(q.ns, k.n) {
			continue
		}
		if len(q.procs) > 0 && !slices.Contains(q.procs, k.procs) {
			continue
		}
		if len(q.perP) > 0 {
			p, _ := strconv.Atoi(k.procs)
			g, _ := strconv.Atoi(k.goroutines)
			if p == 0 || !slices.Contains(q.perP, strconv.Itoa(g/p)) {
				continue
			}
		}
		bk := k
		bk.impl = q.b
		bv, ok := res[bk]
		if !ok || bv == 0 {
			continue
		}
		r := av / bv
		lo, hi = min(lo, r), max(hi, r)
		cells++
	}
	return lo, hi, cells
}

// unit returns one unit of the last digit of the decimal s: 0.01 for
// "0.55", 1 for "4".
func unit(s string) float64 {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return math.Pow(10, -float64(len(s)-i-1))
	}
	return 1
}

// checkDoc checks the ratios quoted in doc (named name) against res, and
// returns one line per problem, and the number of ratios checked.
func checkDoc(name, doc string, res results) (problems []string, checked int) {
	for _, m := range ratioRE.FindAllStringSubmatchIndex(doc, -1) {
		line := 1 + strings.Count(doc[:m[0]], "\n")
		quoted := doc[m[0]:m[1]]
		if i := strings.Index(quoted, "<!--"); i >= 0 {
			quoted = strings.TrimSpace(quoted[:i])
		}
		where := fmt.Sprintf("%s:%d: %s", name, line, quoted)
		if m[6] < 0 {
			problems = append(problems, where+": no <!-- check: ... --> (or <!-- unchecked: why -->) after it")
			continue
		}
		if doc[m[8]:m[9]] == "unchecked" {
			if strings.TrimSpace(doc[m[10]:m[11]]) == "" {
				problems = append(problems, where+": unchecked, with no reason given")
			}
			continue
		}
		spec := strings.TrimSpace(doc[m[10]:m[11]])
		only := ""
		if i := strings.Index(spec, "only="); i >= 0 {
			only, spec = strings.TrimSpace(spec[i+len("only="):]), strings.TrimSpace(spec[:i])
		}
		lo, hi, cells := math.Inf(1), math.Inf(-1), 0
		var err error
		for _, part := range strings.Split(spec, ";") {
			var q query
			if q, err = parseQuery(part); err != nil {
				break
			}
			l, h, c := res.ratios(q)
			lo, hi, cells = min(lo, l), max(hi, h), cells+c
		}
		if err == nil && only != "" && only != "max" && only != "min" {
			err = fmt.Errorf("only=%s: want only=max or only=min", only)
		}
		if err != nil {
			problems = append(problems, where+": "+err.Error())
			continue
		}
		qlo := doc[m[2]:m[3]]
		qhi := qlo
		if m[4] >= 0 {
			qhi = doc[m[4]:m[5]]
		}
		wantLo, _ := strconv.ParseFloat(qlo, 64)
		wantHi, _ := strconv.ParseFloat(qhi, 64)
		tolLo, tolHi := unit(qlo)*1.0001, unit(qhi)*1.0001
		checked++
		offLo, offHi := math.Abs(lo-wantLo) > tolLo, math.Abs(hi-wantHi) > tolHi
		switch only {
		case "max":
			offLo = false
		case "min":
			offHi = false
		}
		switch {
		case cells == 0:
			problems = append(problems, where+": the CSV has no cell for "+spec)
		case offLo || offHi:
			problems = append(problems, fmt.Sprintf("%s: the run gives %.3f–%.3f× over %d cells (%s)", where, lo, hi, cells, spec))
		}
	}
	return problems, checked
}

// checkCounts checks the counts of cells quoted in doc against res.
func checkCounts(name, doc string, res results) (problems []string, checked int) {
	matches := countRE.FindAllStringSubmatchIndex(doc, -1)
	if n := len(regexp.MustCompile(`<!--\s*count:`).FindAllStringIndex(doc, -1)); n != len(matches) {
		problems = append(problems, fmt.Sprintf("%s: %d count markers, but only %d follow an \"N of M\"", name, n, len(matches)))
	}
	for _, m := range matches {
		line := 1 + strings.Count(doc[:m[0]], "\n")
		where := fmt.Sprintf("%s:%d: %s of %s", name, line, doc[m[2]:m[3]], doc[m[4]:m[5]])
		spec := strings.TrimSpace(doc[m[6]:m[7]])
		f := strings.Fields(spec)
		if len(f) == 0 {
			problems = append(problems, where+": empty count marker")
			continue
		}
		op := "<"
		ab := strings.SplitN(f[0], op, 2)
		if len(ab) != 2 {
			op = ">"
			ab = strings.SplitN(f[0], op, 2)
		}
		if len(ab) != 2 {
			problems = append(problems, where+": "+f[0]+": want A>B or A<B")
			continue
		}
		q, err := parseQuery(ab[0] + "/" + ab[1] + " " + strings.Join(f[1:], " "))
		if err != nil {
			problems = append(problems, where+": "+err.Error())
			continue
		}
		held, cells := res.count(q, op)
		checked++
		want, _ := strconv.Atoi(doc[m[2]:m[3]])
		of, _ := strconv.Atoi(doc[m[4]:m[5]])
		if held != want || cells != of {
			problems = append(problems, fmt.Sprintf("%s: the run gives %d of %d (%s)", where, held, cells, spec))
		}
	}
	return problems, checked
}

// count returns in how many of the cells q selects A's figure is above
// (op ">") or below ("<") B's, and how many cells there are.
func (res results) count(q query, op string) (held, cells int) {
	for k, av := range res {
		if k.impl != q.a || k.metric != q.metric ||
			!slices.Contains(q.workloads, k.workload) || !slices.Contains(q.keys, k.keys) || !slices.Contains(q.ns, k.n) ||
			len(q.procs) > 0 && !slices.Contains(q.procs, k.procs) {
			continue
		}
		bk := k
		bk.impl = q.b
		bv, ok := res[bk]
		if !ok {
			continue
		}
		cells++
		if op == ">" && av > bv || op == "<" && av < bv {
			held++
		}
	}
	return held, cells
}

// checkDocs checks the documents under root against its results CSV,
// writes a report to w, and returns an error if a figure is off.
func checkDocs(root string, w io.Writer) error {
	f, err := os.Open(filepath.Join(root, resultsCSV))
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := readResults(f)
	if err != nil {
		return fmt.Errorf("%s: %v", resultsCSV, err)
	}
	var all []string
	total := 0
	for _, name := range checkedDocs {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return err
		}
		problems, n := checkDoc(name, string(b), res)
		cproblems, c := checkCounts(name, string(b), res)
		fmt.Fprintf(w, "%s: %d ratios and %d counts of cells checked against %s\n", name, n, c, resultsCSV)
		all = append(append(all, problems...), cproblems...)
		total += n + c
	}
	if len(all) > 0 {
		return fmt.Errorf("%d quoted figures do not match %s:\n%s", len(all), resultsCSV, strings.Join(all, "\n"))
	}
	if total == 0 {
		return fmt.Errorf("no ratio checked: the documents quote none, or lost their check markers")
	}
	return nil
}
