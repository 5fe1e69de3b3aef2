package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckDocs: the ratios that README.md and docs/choosing.md quote are
// those of the committed run (what .ci/run checks with go run ./bench
// -check-docs).
func TestCheckDocs(t *testing.T) {
	var out bytes.Buffer
	if err := checkDocs("..", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log(out.String())
	if rc := run([]string{"-check-docs", "-n", "1e3"}, &out, &out); rc != 2 {
		t.Errorf("-check-docs with another flag: exit %d, want 2", rc)
	}
}

// copyRepo copies the documents and the CSV that checkDocs reads into a
// temporary root, with edit applied to README.md, and returns the root.
func copyRepo(t *testing.T, edit func(readme string) string) string {
	t.Helper()
	root := t.TempDir()
	for _, name := range append([]string{resultsCSV}, checkedDocs...) {
		b, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "README.md" {
			edited := edit(string(b))
			if edited == string(b) {
				t.Fatal("the edit changed nothing in README.md")
			}
			b = []byte(edited)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestCheckDocsCatchesEdits: an edited copy of README.md fails the check,
// naming the line, for each way a quoted figure can go wrong.
func TestCheckDocsCatchesEdits(t *testing.T) {
	const fig = "0.68–0.82×<!-- check: cmap/xsync4 load-hit uint64 1e3 ops/s -->"
	for _, tc := range []struct {
		name, old, new, want string
	}{
		// One end moved by 0.02, twice the quoted precision.
		{"low end", fig, strings.Replace(fig, "0.68–0.82×", "0.66–0.82×", 1), "the run gives 0.681–0.824×"},
		{"high end", fig, strings.Replace(fig, "0.68–0.82×", "0.68–0.84×", 1), "the run gives 0.681–0.824×"},
		// The right figure, the wrong cells.
		{"wrong cells", fig, strings.Replace(fig, "uint64 1e3", "uint64 1e6", 1), "the run gives 0.956–1.288×"},
		// A figure added with no check.
		{"no marker", fig, fig + " and 0.42× of nothing", "0.42×: no <!-- check"},
		{"unchecked without reason", fig, "0.68–0.82×<!-- unchecked: -->", "unchecked, with no reason given"},
		{"bad query", fig, "0.68–0.82×<!-- check: cmap load-hit uint64 1e3 ops/s -->", "want a ratio of two maps"},
		{"no such cell", fig, "0.68–0.82×<!-- check: cmap/xsync4 load-hit uint64 1e9 ops/s -->", "the CSV has no cell"},
		// A count of cells, edited.
		{"count", "42 of the 80 throughput\n  cells", "41 of the 80 throughput\n  cells", "the run gives 42 of 80"},
		{"count marker astray", "42 of the 80 throughput\n  cells", "42 of all throughput\n  cells", "only 3 follow"},
		{"count direction", "xsync4>cmap load-hit,mix-50,mix-75,mix-90,mix-99 uint64,string 1e3,1e6 ops/s -->,", "xsync4<cmap load-hit,mix-50,mix-75,mix-90,mix-99 uint64,string 1e3,1e6 ops/s -->,", "the run gives 38 of 80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := copyRepo(t, func(readme string) string {
				if !strings.Contains(readme, tc.old) {
					t.Fatalf("README.md no longer quotes %q", tc.old)
				}
				return strings.Replace(readme, tc.old, tc.new, 1)
			})
			var out bytes.Buffer
			err := checkDocs(root, &out)
			if err == nil {
				t.Fatalf("the check passed an edited README.md (%s)", tc.name)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "README.md") {
				t.Fatalf("error %q, want it to name README.md's line and say %q", err, tc.want)
			}
		})
	}
}

func TestUnit(t *testing.T) {
	for s, want := range map[string]float64{"0.55": 0.01, "4": 1, "0.007": 0.001, "2.0": 0.1} {
		if got := unit(s); got < want*0.999 || got > want*1.001 {
			t.Errorf("unit(%q) = %v, want %v", s, got, want)
		}
	}
}
