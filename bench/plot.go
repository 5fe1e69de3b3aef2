package main

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Charts use Liberation Sans, which gonum/plot carries
// (codeberg.org/go-fonts/liberation); text is drawn as glyph outlines
// (outlineCanvas), so a chart looks the same wherever it is viewed.
func init() {
	plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
}

const (
	chartWidth  = 9 * vg.Inch
	chartHeight = 5 * vg.Inch
)

// writeSVGs draws the charts of the results into dir and returns the
// files written: throughput per configuration as grouped bars per
// throughput workload (the floor as a dashed level); for grow, per
// configuration, the per-Store latency percentiles, and the latency CDF
// and its tail (log scales) when the results hold the sampled
// distribution (a CSV written before it was recorded does not); memory
// bars.
func writeSVGs(dir string, results []*result, o *options) ([]string, error) {
	var files []string
	save := func(c *chart, name string) error {
		path := filepath.Join(dir, name+".svg")
		if err := c.save(path); err != nil {
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
				c, err := throughputChart(w, k.keys, k.n, sel, o.impls)
				if err != nil {
					return files, err
				}
				if err := save(c, base); err != nil {
					return files, err
				}
			case kindGrow:
				for _, cf := range cfgsOf(sel) {
					c, err := percentileChart(k.keys, k.n, cf, sel)
					if err != nil {
						return files, err
					}
					if err := save(c, fmt.Sprintf("%s-percentiles-p%d-g%d", base, cf.procs, cf.goroutines)); err != nil {
						return files, err
					}
					if slices.ContainsFunc(sel, func(r *result) bool { return r.lat == nil }) {
						continue // read from a CSV without the distributions
					}
					for _, tail := range []bool{false, true} {
						c, err := growChart(k.keys, k.n, cf, sel, tail)
						if err != nil {
							return files, err
						}
						name := fmt.Sprintf("%s-cdf-p%d-g%d", base, cf.procs, cf.goroutines)
						if tail {
							name = fmt.Sprintf("%s-tail-p%d-g%d", base, cf.procs, cf.goroutines)
						}
						if err := save(c, name); err != nil {
							return files, err
						}
					}
				}
			case kindMemory:
				c, err := memoryChart(k.keys, k.n, sel)
				if err != nil {
					return files, err
				}
				if err := save(c, base); err != nil {
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

// chart is a plot whose legend is drawn in a column to the right of the
// data, where it can cover nothing.
type chart struct {
	p      *plot.Plot
	legend plot.Legend
	names  []string // the legend's entries, to size its column
	// xLabel and yLabel, if set, are drawn beside the plot instead of
	// p.X.Label and p.Y.Label: gonum pads a log-scale axis as if its
	// centered label stood at the arithmetic middle of the range, near
	// its far end, and so leaves a wide blank margin there.
	xLabel, yLabel string
}

func newChart(title string) *chart {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(10)
	p.X.Padding, p.Y.Padding = vg.Points(4), vg.Points(4)
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	l.Padding = vg.Points(3)
	l.TextStyle.Font.Size = vg.Points(11)
	return &chart{p: p, legend: l}
}

func (c *chart) add(name string, thumbs ...plot.Thumbnailer) {
	c.legend.Add(name, thumbs...)
	c.names = append(c.names, name)
}

// legendWidth is the width of the legend column, a margin included.
func (c *chart) legendWidth() vg.Length {
	var w vg.Length
	for _, n := range c.names {
		w = max(w, c.legend.ThumbnailWidth+c.legend.TextStyle.Rectangle(" "+n).Max.X)
	}
	return w + vg.Points(16)
}

// save draws the chart, its legend beside the data, into an SVG file.
func (c *chart) save(path string) error {
	cv := vgsvg.New(chartWidth, chartHeight)
	dc := draw.New(outlineCanvas{cv})
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	// The title is centered over the whole chart, the plot and its legend
	// column below it.
	t := c.p.Title
	top := vg.Points(6)
	if t.Text != "" {
		dc.FillText(t.TextStyle, vg.Point{X: chartWidth / 2, Y: chartHeight - top}, t.Text)
		top += t.TextStyle.Rectangle(t.Text).Size().Y + t.Padding
	}
	c.p.Title.Text = ""
	defer func() { c.p.Title.Text = t.Text }()
	lw := c.legendWidth()
	bottom := vg.Length(0)
	if c.xLabel != "" {
		sty := c.p.X.Label.TextStyle
		sty.YAlign = draw.YBottom
		dc.FillText(sty, vg.Point{X: (chartWidth - lw) / 2, Y: vg.Points(4)}, c.xLabel)
		bottom = sty.Rectangle(c.xLabel).Size().Y + vg.Points(8)
	}
	left := vg.Length(0)
	if c.yLabel != "" {
		sty := c.p.Y.Label.TextStyle
		sty.Rotation, sty.XAlign, sty.YAlign = math.Pi/2, draw.XCenter, draw.YTop
		dc.FillText(sty, vg.Point{X: vg.Points(4), Y: (bottom + chartHeight - top) / 2}, c.yLabel)
		left = c.p.Y.Label.TextStyle.Rectangle(c.yLabel).Size().Y + vg.Points(10) // unrotated height
	}
	c.p.Draw(draw.Crop(dc, left, -lw, bottom, -top))
	c.legend.Draw(draw.Crop(dc, chartWidth-lw+vg.Points(10), 0, 0, -top))
	var b bytes.Buffer
	if _, err := cv.WriteTo(&b); err != nil {
		return err
	}
	return os.WriteFile(path, roundPaths(b.Bytes()), 0o644)
}

var (
	pathData = regexp.MustCompile(`d="[^"]*"`)
	decimals = regexp.MustCompile(`-?[0-9]+\.[0-9]{2,}`)
)

// roundPaths rounds the coordinates of every path to a tenth of a point
// (1/720 inch), which no viewer can tell apart, and which makes the glyph
// outlines a third shorter.
func roundPaths(svg []byte) []byte {
	return pathData.ReplaceAllFunc(svg, func(d []byte) []byte {
		return decimals.ReplaceAllFunc(d, func(num []byte) []byte {
			v, err := strconv.ParseFloat(string(num), 64)
			if err != nil {
				return num
			}
			return strconv.AppendFloat(nil, math.Round(v*10)/10, 'f', -1, 64)
		})
	})
}

// style gives each map the same color (and dash) in every chart.
func style(im *impl) (color.Color, []vg.Length) {
	if im.floor {
		return color.Gray{Y: 0x60}, []vg.Length{vg.Points(5), vg.Points(3)}
	}
	return plotutil.Color(slices.Index(registry, im)), nil
}

// cfgLabel names a configuration on a category axis, on two lines.
func cfgLabel(c cfg) string {
	return fmt.Sprintf("GOMAXPROCS=%d\n%s", c.procs, goroutines(c.goroutines))
}

// goroutines renders "1 goroutine", "8 goroutines".
func goroutines(n int) string {
	if n == 1 {
		return "1 goroutine"
	}
	return fmt.Sprintf("%d goroutines", n)
}

// floorLabel is the legend's name for the one-goroutine built-in map.
const floorLabel = "map, 1 goroutine (floor)"

// throughputChart draws ops/s per configuration (GOMAXPROCS × goroutines)
// as one group of bars per configuration, one bar per map: the
// configurations are categories, so no line joins them. The one-goroutine
// built-in map is a dashed level across the chart.
func throughputChart(w *workload, keys string, n int, rs []*result, impls []*impl) (*chart, error) {
	c := newChart(fmt.Sprintf("%s, %s keys, N=%s: throughput (higher is better)", w.name, keys, fmtN(n)))
	p := c.p
	p.Y.Label.Text = "operations per second, all goroutines"
	p.Y.Tick.Marker = linearTicks{siLabel}
	cs := cfgsOf(rs)
	slices.SortStableFunc(cs, func(a, b cfg) int {
		if a.procs != b.procs {
			return a.procs - b.procs
		}
		return a.goroutines - b.goroutines
	})
	labels := make([]string, len(cs))
	for i, cf := range cs {
		labels[i] = cfgLabel(cf)
	}
	var bars []*impl
	for _, im := range registry {
		if slices.Contains(impls, im) && !im.floor && find(rs, func(r *result) bool { return r.im == im }) != nil {
			bars = append(bars, im)
		}
	}
	// Bars fill about two thirds of each category's width.
	slot := (chartWidth - c.legendWidth() - vg.Inch) / vg.Length(max(len(cs), 1))
	bw := 0.55 * slot / vg.Length(max(len(bars), 1))
	var top float64
	for j, im := range bars {
		vals := make(plotter.Values, len(cs))
		for i, cf := range cs {
			r := find(rs, func(r *result) bool {
				return r.im == im && r.Procs == cf.procs && r.Goroutines == cf.goroutines
			})
			if r != nil {
				vals[i] = r.get("ops/s")
				top = max(top, vals[i])
			}
		}
		b, err := plotter.NewBarChart(vals, bw)
		if err != nil {
			return nil, err
		}
		col, _ := style(im)
		b.Color = col
		b.LineStyle.Width = 0
		if im.ours {
			b.LineStyle.Width, b.LineStyle.Color = vg.Points(1), color.Black
		}
		b.Offset = bw * (vg.Length(j) - vg.Length(len(bars)-1)/2)
		p.Add(b)
		c.add(im.label, b)
	}
	if fl := floorOf(rs); fl != nil && slices.Contains(impls, fl.im) {
		y := fl.get("ops/s")
		top = max(top, y)
		l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: y}, {X: float64(len(cs)) - 0.5, Y: y}})
		if err != nil {
			return nil, err
		}
		col, dashes := style(fl.im)
		l.Color, l.Dashes, l.Width = col, dashes, vg.Points(1.5)
		p.Add(l)
		c.add(floorLabel, l)
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.5, float64(len(cs))-0.5
	p.Y.Min, p.Y.Max = 0, 1.05*top
	return c, nil
}

// growAt returns the grow results at cfg cf, and the floor's.
func growAt(rs []*result, cf cfg) []*result {
	var sel []*result
	for _, r := range rs {
		if r.im.floor || (r.Procs == cf.procs && r.Goroutines == cf.goroutines) {
			sel = append(sel, r)
		}
	}
	return sel
}

// growTitle is the title of a grow chart at cfg cf.
func growTitle(keys string, n int, cf cfg, what string) string {
	return fmt.Sprintf("grow to N=%s, %s keys, GOMAXPROCS=%d, %s: %s", fmtN(n), keys, cf.procs, goroutines(cf.goroutines), what)
}

// percentileChart draws the per-Store latency percentiles of grow at cfg
// cf, one column of points per percentile and one point per map in it
// (log y): the typical Store, the tail and the worst pause side by side.
func percentileChart(keys string, n int, cf cfg, rs []*result) (*chart, error) {
	c := newChart(growTitle(keys, n, cf, "time of one Store (lower is better)"))
	p := c.p
	qs := []struct{ metric, label string }{
		{"p50_ns", "median (p50)"}, {"p99_ns", "p99"}, {"p99.9_ns", "p99.9"}, {"max_ns", "slowest (max)"},
	}
	sel := growAt(rs, cf)
	for j, r := range sel {
		var xys plotter.XYs
		for i, q := range qs {
			if v := r.get(q.metric); v > 0 {
				// Side by side within a column, in the legend's order.
				xys = append(xys, plotter.XY{X: float64(i) + 0.1*(float64(j)-float64(len(sel)-1)/2), Y: v})
			}
		}
		if len(xys) == 0 {
			continue
		}
		s, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		col, _ := style(r.im)
		s.Color, s.Shape, s.Radius = col, draw.CircleGlyph{}, vg.Points(4)
		if r.im.ours {
			s.Shape = draw.BoxGlyph{}
		}
		p.Add(s)
		label := r.im.label
		if r.im.floor {
			label = floorLabel
		}
		c.add(label, s)
	}
	labels := make([]string, len(qs))
	for i, q := range qs {
		labels[i] = q.label
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.5, float64(len(qs))-0.5
	c.yLabel = "time of one Store (includes one time.Now)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = durationTicks{}
	return c, nil
}

// growChart draws the per-Store latency distribution of grow at cfg cf: the
// CDF (log x), or with tail the fraction of Stores at least that slow
// (log-log), where the rare pauses show.
func growChart(keys string, n int, cf cfg, rs []*result, tail bool) (*chart, error) {
	sel := growAt(rs, cf)
	what := "latency of each Store, CDF"
	if tail {
		what = "the slowest Stores"
	}
	c := newChart(growTitle(keys, n, cf, what))
	p := c.p
	if tail {
		c.yLabel = "Stores at least this slow"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = fractionTicks{}
	} else {
		p.Y.Label.Text = "Stores at most this slow"
		p.Y.Min, p.Y.Max = 0, 1
		p.Y.Tick.Marker = percentTicks
	}
	c.xLabel = "time of one Store (includes one time.Now)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = durationTicks{}
	for _, r := range sel {
		xys := latencyPoints(r, tail)
		if len(xys) == 0 {
			continue
		}
		col, dashes := style(r.im)
		width := vg.Points(1.5)
		if r.im.ours {
			width = vg.Points(2.5)
		}
		label := r.im.label
		if r.im.floor {
			label = floorLabel
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.StepStyle = plotter.PostStep
		l.Color, l.Dashes, l.Width = col, dashes, width
		p.Add(l)
		c.add(label, l)
	}
	return c, nil
}

// latencyPoints returns r's sampled latency distribution as (ns,
// fraction) points: the CDF, or with tail the fraction at least as slow.
func latencyPoints(r *result, tail bool) plotter.XYs {
	if r.lat == nil {
		return nil
	}
	xys := make(plotter.XYs, len(r.lat.cdf))
	for i, pt := range r.lat.cdf {
		xys[i] = plotter.XY{X: pt.ns, Y: pt.frac}
		if tail {
			xys[i].Y = pt.tail
		}
	}
	return xys
}

// memoryChart draws the heap of each map full and after deleting 90%.
func memoryChart(keys string, n int, rs []*result) (*chart, error) {
	c := newChart(fmt.Sprintf("memory, %s keys: live heap of a map of N=%s, then after deleting 90%% (lower is better)", keys, fmtN(n)))
	p := c.p
	p.Y.Label.Text = "MiB (HeapAlloc after runtime.GC)"
	p.Y.Tick.Marker = linearTicks{plainLabel}
	if len(rs) == 0 {
		return c, nil
	}
	var full, after plotter.Values
	var names []string
	for _, r := range rs {
		full = append(full, r.get("heap_full_bytes")/(1<<20))
		after = append(after, r.get("heap_after_delete_bytes")/(1<<20))
		// Two lines at most: "xsync v4\nMap".
		name := r.im.label
		if i := strings.LastIndex(name, " "); i >= 0 {
			name = name[:i] + "\n" + name[i+1:]
		}
		names = append(names, name)
	}
	w := vg.Points(20)
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
	c.add(fmt.Sprintf("%s entries", fmtN(n)), b1)
	c.add("after deleting 90%", b2)
	p.NominalX(names...)
	p.Y.Min = 0
	p.Y.Max = 1.05 * max(slices.Max(full), slices.Max(after))
	return c, nil
}
