package main

import (
	"fmt"
	"image/color"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// writeSVGs draws the charts of the results into dir and returns the
// files written: throughput vs goroutines per throughput workload (one line
// per map, the floor as a dashed level), the per-Store latency CDF of grow
// (log x) and its tail (log-log), and memory bars.
func writeSVGs(dir string, results []*result, o *options) ([]string, error) {
	var files []string
	save := func(p *plot.Plot, name string) error {
		path := filepath.Join(dir, name+".svg")
		if err := p.Save(8*vg.Inch, 5*vg.Inch, path); err != nil {
			return err
		}
		files = append(files, path)
		return nil
	}
	for _, w := range o.workloads {
		var rs []*result
		for _, r := range results {
			if r.Workload == w.name {
				rs = append(rs, r)
			}
		}
		for _, k := range keySizes(rs) {
			sel := filterKN(rs, k.keys, k.n)
			base := fmt.Sprintf("%s-%s-n%s", w.name, k.keys, fmtN(k.n))
			switch w.kind {
			case kindThroughput:
				p, err := throughputPlot(w, k.keys, k.n, sel, o.impls)
				if err != nil {
					return files, err
				}
				if err := save(p, base); err != nil {
					return files, err
				}
			case kindGrow:
				for _, c := range cfgsOf(sel) {
					for _, tail := range []bool{false, true} {
						p, err := growPlot(k.keys, k.n, c, sel, tail)
						if err != nil {
							return files, err
						}
						name := fmt.Sprintf("%s-cdf-p%d-g%d", base, c.procs, c.goroutines)
						if tail {
							name = fmt.Sprintf("%s-tail-p%d-g%d", base, c.procs, c.goroutines)
						}
						if err := save(p, name); err != nil {
							return files, err
						}
					}
				}
			case kindMemory:
				p, err := memoryPlot(k.keys, k.n, sel)
				if err != nil {
					return files, err
				}
				if err := save(p, base); err != nil {
					return files, err
				}
			}
		}
	}
	return files, nil
}

type keySize struct {
	keys string
	n    int
}

func keySizes(rs []*result) []keySize {
	var out []keySize
	for _, r := range rs {
		if k := (keySize{r.Keys, r.N}); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func filterKN(rs []*result, keys string, n int) []*result {
	var out []*result
	for _, r := range rs {
		if r.Keys == keys && r.N == n {
			out = append(out, r)
		}
	}
	return out
}

// style gives each map the same color (and dash) in every chart.
func style(im *impl) (color.Color, []vg.Length) {
	if im.floor {
		return color.Gray{Y: 0x60}, []vg.Length{vg.Points(4), vg.Points(3)}
	}
	return plotutil.Color(slices.Index(registry, im)), nil
}

func throughputPlot(w *workload, keys string, n int, rs []*result, impls []*impl) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s, keys=%s, N=%s: throughput vs goroutines", w.name, keys, fmtN(n))
	p.X.Label.Text = "GOMAXPROCS × goroutines"
	p.Y.Label.Text = "million ops/s (all goroutines)"
	p.Legend.Top = true
	p.Legend.Left = true
	cs := cfgsOf(rs)
	slices.SortStableFunc(cs, func(a, b cfg) int {
		if a.goroutines != b.goroutines {
			return a.goroutines - b.goroutines
		}
		return a.procs - b.procs
	})
	labels := make([]string, len(cs))
	for i, c := range cs {
		labels[i] = fmt.Sprintf("P=%d G=%d", c.procs, c.goroutines)
	}
	p.NominalX(labels...)
	p.Y.Min = 0
	var top float64
	for _, im := range registry {
		if !slices.Contains(impls, im) {
			continue
		}
		var xys plotter.XYs
		if im.floor {
			fl := floorOf(rs)
			if fl == nil {
				continue
			}
			y := fl.get("ops/s") / 1e6
			xys = plotter.XYs{{X: -0.25, Y: y}, {X: float64(len(cs)) - 0.75, Y: y}}
		} else {
			for i, c := range cs {
				r := find(rs, func(r *result) bool {
					return r.im == im && r.Procs == c.procs && r.Goroutines == c.goroutines
				})
				if r != nil {
					xys = append(xys, plotter.XY{X: float64(i), Y: r.get("ops/s") / 1e6})
				}
			}
		}
		if len(xys) == 0 {
			continue
		}
		for _, xy := range xys {
			top = max(top, xy.Y)
		}
		l, s, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		c, dashes := style(im)
		l.Color, l.Dashes, s.Color = c, dashes, c
		l.Width = vg.Points(1.5)
		if im.ours {
			l.Width = vg.Points(2.5)
		}
		if im.floor {
			s.Shape = draw.CircleGlyph{}
			s.Radius = 0
			p.Add(l)
		} else {
			s.Shape = draw.CircleGlyph{}
			p.Add(l, s)
		}
		p.Legend.Add(im.label, l)
	}
	p.Y.Max = 1.5 * top // room for the legend above the lines
	return p, nil
}

// growPlot draws the per-Store latency distribution of grow at cfg c: the
// CDF (log x), or with tail the fraction of Stores at least that slow
// (log-log), where the rare pauses show.
func growPlot(keys string, n int, c cfg, rs []*result, tail bool) (*plot.Plot, error) {
	p := plot.New()
	if tail {
		p.Title.Text = fmt.Sprintf("grow to N=%s, keys=%s, procs=%d g=%d: Stores at least this slow", fmtN(n), keys, c.procs, c.goroutines)
		p.Y.Label.Text = "fraction of Stores ≥ x"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	} else {
		p.Title.Text = fmt.Sprintf("grow to N=%s, keys=%s, procs=%d g=%d: per-Store latency CDF", fmtN(n), keys, c.procs, c.goroutines)
		p.Y.Label.Text = "fraction of Stores ≤ x"
		p.Y.Min, p.Y.Max = 0, 1
	}
	// The CDFs fill the top left, their tails the bottom right.
	p.Legend.Top = tail
	p.X.Label.Text = "Store latency, ns (includes one time.Now)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	var sel []*result
	for _, r := range rs {
		if r.lat != nil && (r.im.floor || (r.Procs == c.procs && r.Goroutines == c.goroutines)) {
			sel = append(sel, r)
		}
	}
	for _, r := range sel {
		xys := make(plotter.XYs, len(r.lat.cdf))
		for i, pt := range r.lat.cdf {
			xys[i] = plotter.XY{X: pt.ns, Y: pt.frac}
			if tail {
				xys[i].Y = pt.tail
			}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		c, dashes := style(r.im)
		l.Color, l.Dashes = c, dashes
		l.Width = vg.Points(1.5)
		if r.im.ours {
			l.Width = vg.Points(2.5)
		}
		p.Add(l)
		label := r.im.label
		if r.im.floor {
			label = "map, 1 goroutine (reference)"
		}
		p.Legend.Add(label, l)
	}
	return p, nil
}

// memoryPlot draws the heap of each map full and after deleting 90%.
func memoryPlot(keys string, n int, rs []*result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("memory, keys=%s: heap of a map of N=%s, then after deleting 90%%", keys, fmtN(n))
	p.Y.Label.Text = "MiB (HeapAlloc after GC)"
	p.Legend.Top = true
	var full, after plotter.Values
	var names []string
	if len(rs) == 0 {
		return p, nil
	}
	for _, r := range rs {
		full = append(full, r.get("heap_full_bytes")/(1<<20))
		after = append(after, r.get("heap_after_delete_bytes")/(1<<20))
		name := r.im.label
		if r.im.floor {
			name = "map"
		}
		names = append(names, strings.ReplaceAll(name, " ", "\n"))
	}
	w := vg.Points(18)
	b1, err := plotter.NewBarChart(full, w)
	if err != nil {
		return nil, err
	}
	b2, err := plotter.NewBarChart(after, w)
	if err != nil {
		return nil, err
	}
	b1.Color, b2.Color = plotutil.Color(0), plotutil.Color(2)
	b1.LineStyle.Width, b2.LineStyle.Width = 0, 0
	b1.Offset, b2.Offset = -w/2, w/2
	p.Add(b1, b2)
	p.Legend.Add(fmt.Sprintf("%s entries", fmtN(n)), b1)
	p.Legend.Add("after deleting 90%", b2)
	p.NominalX(names...)
	p.Y.Min = 0
	p.Y.Max = 1.2 * max(slices.Max(full), slices.Max(after)) // room for the legend
	return p, nil
}
