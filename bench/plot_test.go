package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

// TestReplot redraws the charts of a run from its CSV and gets the same
// files, byte for byte: the CSV holds everything the charts draw,
// including grow's latency distributions.
func TestReplot(t *testing.T) {
	dir := t.TempDir()
	csvPath, live, again := filepath.Join(dir, "out.csv"), filepath.Join(dir, "live"), filepath.Join(dir, "again")
	var stdout, stderr bytes.Buffer
	args := []string{"-duration", "10ms", "-n", "1000", "-reps", "1", "-workloads", "load-hit,grow,memory", "-csv", csvPath, "-svg", live}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run(%q) = %d; stderr:\n%s", args, code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"-replot", csvPath, "-svg", again}, &stdout, &stderr); code != 0 {
		t.Fatalf("-replot: exit %d; stderr:\n%s", code, stderr.String())
	}
	want := svgFiles(t, live)
	if got := svgFiles(t, again); !slices.Equal(got, want) {
		t.Fatalf("replot wrote %q, the run %q", got, want)
	}
	for _, want := range []string{"load-hit-uint64-n1e3.svg", "grow-uint64-n1e3-cdf-p1-g1.svg",
		"grow-uint64-n1e3-tail-p1-g1.svg", "grow-uint64-n1e3-percentiles-p1-g1.svg", "memory-uint64-n1e3.svg"} {
		if !slices.Contains(svgFiles(t, again), want) {
			t.Errorf("no %s", want)
		}
	}
	for _, f := range want {
		a, _ := os.ReadFile(filepath.Join(live, f))
		b, _ := os.ReadFile(filepath.Join(again, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the run and -replot", f)
		}
	}
}

// TestReplotWithoutDistribution redraws a CSV that has the grow
// percentiles but not the sampled distributions (as written before they
// were recorded): the percentile charts, and no CDF drawn from nothing.
func TestReplotWithoutDistribution(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "out.csv")
	var stdout, stderr bytes.Buffer
	args := []string{"-duration", "10ms", "-n", "1000", "-reps", "1", "-procs", "1", "-workloads", "grow", "-maps", "syncmap,map", "-csv", csvPath}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("run(%q) = %d; stderr:\n%s", args, code, stderr.String())
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if !strings.Contains(line, ",cdf_") {
			kept = append(kept, line)
		}
	}
	if len(kept) == strings.Count(string(data), "\n")+1 {
		t.Fatalf("the CSV has no cdf_ rows:\n%s", data)
	}
	old := filepath.Join(dir, "old.csv")
	if err := os.WriteFile(old, []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "svg")
	if code := run([]string{"-replot", old, "-svg", svg}, &stdout, &stderr); code != 0 {
		t.Fatalf("-replot: exit %d; stderr:\n%s", code, stderr.String())
	}
	if got, want := svgFiles(t, svg), []string{"grow-uint64-n1e3-percentiles-p1-g1.svg"}; !slices.Equal(got, want) {
		t.Errorf("replot wrote %q, want %q", got, want)
	}
}

func TestReplotBadCSV(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"header.csv":   "a,b,c\n",
		"map.csv":      "workload,keys,n,procs,goroutines,map,metric,value\nload-hit,uint64,1000,1,1,hashmap,ops/s,1\n",
		"value.csv":    "workload,keys,n,procs,goroutines,map,metric,value\nload-hit,uint64,1000,1,1,syncmap,ops/s,fast\n",
		"cdf.csv":      "workload,keys,n,procs,goroutines,map,metric,value\ngrow,uint64,1000,1,1,syncmap,cdf_ns,5\n",
		"workload.csv": "workload,keys,n,procs,goroutines,map,metric,value\nmix-80,uint64,1000,1,1,syncmap,ops/s,1\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		if code := run([]string{"-replot", path, "-svg", filepath.Join(dir, "svg")}, &stdout, &stderr); code != 1 {
			t.Errorf("%s: exit %d, want 1; stderr:\n%s", name, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), "bench: -replot: "+path) {
			t.Errorf("%s: stderr does not name the file:\n%s", name, stderr.String())
		}
	}
}

func svgFiles(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.svg"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	slices.Sort(names)
	return names
}

// TestTickLabels checks that axes are labeled as a person writes numbers:
// no float noise, no exponents.
func TestTickLabels(t *testing.T) {
	majors := func(tk plot.Ticker, lo, hi float64) []string {
		var out []string
		for _, x := range tk.Ticks(lo, hi) {
			if !x.IsMinor() {
				out = append(out, x.Label)
			}
		}
		return out
	}
	tests := []struct{ got, want []string }{
		{majors(durationTicks{}, 50, 6e7), []string{"100ns", "1µs", "10µs", "100µs", "1ms", "10ms"}},
		{majors(durationTicks{}, 1, 2e9), []string{"1ns", "10ns", "100ns", "1µs", "10µs", "100µs", "1ms", "10ms", "100ms", "1s"}},
		{majors(fractionTicks{}, 1e-6, 1), []string{"0.0001%", "0.001%", "0.01%", "0.1%", "1%", "10%", "100%"}},
		{majors(linearTicks{siLabel}, 0, 1.6e7), []string{"0", "5M", "10M", "15M"}},
		{majors(linearTicks{plainLabel}, 0, 0.9), []string{"0", "0.4", "0.8"}},
		{[]string{siLabel(2.5e6), siLabel(999), siLabel(1.5e9), plainLabel(0.30000000000000004), plainLabel(9.999999999999999e-05)},
			[]string{"2.5M", "999", "1.5G", "0.3", "0.0001"}},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("labels %q, want %q", tt.got, tt.want)
		}
	}
	// Minor ticks sit between the majors, inside the range.
	for _, x := range (durationTicks{}).Ticks(50, 6e7) {
		if x.Value < 50 || x.Value > 6e7 {
			t.Errorf("tick %v outside [50, 6e7]", x.Value)
		}
	}
}

// TestChartsNeedNoFont checks that the SVGs draw their text as outlines:
// no <text> element, so no viewer substitutes a font of other widths.
func TestChartsNeedNoFont(t *testing.T) {
	dir := t.TempDir()
	im := lookupImpl("syncmap")
	r := &result{Workload: "load-hit", Keys: "uint64", N: 1000, Procs: 1, Goroutines: 1, Map: im.id, im: im}
	r.set("ops/s", 2.5e7)
	files, err := writeSVGs(dir, []*result{r}, &options{workloads: []*workload{lookupWorkload("load-hit")}, impls: []*impl{im}})
	if err != nil || len(files) != 1 {
		t.Fatalf("writeSVGs: %q, %v", files, err)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("<text")) || bytes.Contains(data, []byte("font-family")) {
		t.Errorf("%s has text that depends on the viewer's fonts", files[0])
	}
	if !bytes.Contains(data, []byte("<path")) {
		t.Errorf("%s has no paths", files[0])
	}
}
