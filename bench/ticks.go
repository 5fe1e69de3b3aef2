package main

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// Tick labels that read as numbers a person writes: 100ns, 1ms, 20M,
// 0.1%, never 9.999999999999999e-05. The tickers below place major ticks
// at exact powers of ten (computed from integer exponents, so no label
// carries float noise) and unlabeled minor ticks between them.

// durationTicks marks a log axis of nanoseconds: 1ns, 10ns, 100ns, 1µs, …
type durationTicks struct{}

func (durationTicks) Ticks(lo, hi float64) []plot.Tick {
	return decadeTicks(lo, hi, durationLabel)
}

// durationLabel renders 10^k ns: "1ns", "100µs", "10s".
func durationLabel(k int) string {
	if k < 0 {
		return ""
	}
	units := []string{"ns", "µs", "ms", "s"}
	u := min(k/3, len(units)-1)
	return "1" + strings.Repeat("0", k-3*u) + units[u]
}

// fractionTicks marks a log axis of fractions in percent: 100%, 10%, 1%,
// 0.1%, 0.01%, …
type fractionTicks struct{}

func (fractionTicks) Ticks(lo, hi float64) []plot.Tick {
	return decadeTicks(lo, hi, percentLabel)
}

// percentLabel renders the fraction 10^k (k <= 0) in percent: k=0 is
// "100%", k=-3 is "0.1%".
func percentLabel(k int) string {
	switch {
	case k > 0:
		return ""
	case k >= -2:
		return "1" + strings.Repeat("0", 2+k) + "%"
	}
	return "0." + strings.Repeat("0", -k-3) + "1%"
}

// decadeTicks returns a major tick at every power of ten in [lo, hi],
// labeled by label(exponent), and minor ticks at 2..9 times each power.
// If the range holds no power of ten, its ends are labeled instead.
func decadeTicks(lo, hi float64, label func(k int) string) []plot.Tick {
	if lo <= 0 || hi <= lo {
		return nil
	}
	var ticks []plot.Tick
	for k := int(math.Floor(math.Log10(lo))); k <= int(math.Ceil(math.Log10(hi))); k++ {
		p := math.Pow(10, float64(k))
		if p >= lo*(1-1e-9) && p <= hi*(1+1e-9) {
			ticks = append(ticks, plot.Tick{Value: p, Label: label(k)})
		}
		for m := 2; m <= 9; m++ {
			if v := float64(m) * p; v > lo && v < hi {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}

// linearTicks places gonum's default ticks on a linear axis and relabels
// the major ones with format.
type linearTicks struct{ format func(float64) string }

func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if !ticks[i].IsMinor() {
			ticks[i].Label = t.format(ticks[i].Value)
		}
	}
	return ticks
}

// siLabel renders a rate or count with an SI suffix and at most four
// significant digits: 0, 500k, 20M, 1.5G.
func siLabel(v float64) string {
	scale, suffix := 1.0, ""
	switch a := math.Abs(v); {
	case a >= 1e9:
		scale, suffix = 1e9, "G"
	case a >= 1e6:
		scale, suffix = 1e6, "M"
	case a >= 1e3:
		scale, suffix = 1e3, "k"
	}
	return plainLabel(v/scale) + suffix
}

// plainLabel renders v with at most four significant digits and no
// exponent: 0.3, 25, 1200.
func plainLabel(v float64) string {
	if math.Abs(v) < 1e-12 {
		return "0"
	}
	return strconv.FormatFloat(roundSig(v, 4), 'f', -1, 64)
}

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	p := math.Pow(10, float64(n-1)-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*p) / p
}

// percentTicks labels a linear axis of fractions in [0, 1] every 20%.
var percentTicks = plot.ConstantTicks{
	{Value: 0, Label: "0%"}, {Value: 0.2, Label: "20%"}, {Value: 0.4, Label: "40%"},
	{Value: 0.6, Label: "60%"}, {Value: 0.8, Label: "80%"}, {Value: 1, Label: "100%"},
}
