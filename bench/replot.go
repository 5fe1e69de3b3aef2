package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
)

// replot redraws the charts of a CSV written by -csv into dir, without
// running anything, and returns the files written.
func replot(csvPath, dir string) ([]string, error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	results, err := readCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", csvPath, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	o := &options{}
	for _, w := range workloads {
		if slices.ContainsFunc(results, func(r *result) bool { return r.Workload == w.name }) {
			o.workloads = append(o.workloads, w)
		}
	}
	for _, im := range registry {
		if slices.ContainsFunc(results, func(r *result) bool { return r.im == im }) {
			o.impls = append(o.impls, im)
		}
	}
	return writeSVGs(dir, results, o)
}

// readCSV reads what writeCSV wrote: one result per (workload, keys, n,
// procs, goroutines, map), in the order of first appearance, with its
// metrics in row order and, if the rows hold one, its latency
// distribution.
func readCSV(rd io.Reader) ([]*result, error) {
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = len(csvHeader)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || !slices.Equal(recs[0], csvHeader) {
		return nil, fmt.Errorf("not a bench CSV: the first row is not %q", csvHeader)
	}
	type key struct {
		w, k             string
		n, procs, gorous int
		m                string
	}
	byKey := map[key]*result{}
	var out []*result
	cdf := map[*result]*[3][]float64{} // cdf_ns, cdf_frac, cdf_tail columns
	for i, rec := range recs[1:] {
		line := i + 2
		var ints [3]int
		for j := range ints {
			if ints[j], err = strconv.Atoi(rec[2+j]); err != nil {
				return nil, fmt.Errorf("line %d: %s %q is not an integer", line, csvHeader[2+j], rec[2+j])
			}
		}
		v, err := strconv.ParseFloat(rec[7], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: value %q is not a number", line, rec[7])
		}
		k := key{rec[0], rec[1], ints[0], ints[1], ints[2], rec[5]}
		r := byKey[k]
		if r == nil {
			if lookupWorkload(k.w) == nil {
				return nil, fmt.Errorf("line %d: unknown workload %q", line, k.w)
			}
			im := lookupImpl(k.m)
			if im == nil {
				return nil, fmt.Errorf("line %d: unknown map %q", line, k.m)
			}
			r = &result{Workload: k.w, Keys: k.k, N: k.n, Procs: k.procs, Goroutines: k.gorous, Map: k.m, im: im}
			byKey[k] = r
			out = append(out, r)
		}
		if col := slices.Index([]string{"cdf_ns", "cdf_frac", "cdf_tail"}, rec[6]); col >= 0 {
			if cdf[r] == nil {
				cdf[r] = new([3][]float64)
			}
			cdf[r][col] = append(cdf[r][col], v)
			continue
		}
		r.set(rec[6], v)
	}
	for r, cols := range cdf {
		if len(cols[0]) != len(cols[1]) || len(cols[0]) != len(cols[2]) {
			return nil, fmt.Errorf("%s %s n=%d procs=%d g=%d %s: %d cdf_ns, %d cdf_frac and %d cdf_tail rows",
				r.Workload, r.Keys, r.N, r.Procs, r.Goroutines, r.Map, len(cols[0]), len(cols[1]), len(cols[2]))
		}
		s := &latencySummary{cdf: make([]cdfPoint, len(cols[0]))}
		for i := range s.cdf {
			s.cdf[i] = cdfPoint{ns: cols[0][i], frac: cols[1][i], tail: cols[2][i]}
		}
		r.lat = s
	}
	return out, nil
}
