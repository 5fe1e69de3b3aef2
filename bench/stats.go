package main

import (
	"math"
	"slices"
	"time"
)

// median returns the median of xs (the mean of the two middle values for
// an even count), or 0 for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p% of the
// samples are less than or equal to it. percentile(s, 100) is the maximum.
func percentile(sorted []int64, p float64) int64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The epsilon keeps p×n/100 that is an integer in exact arithmetic
	// (99.9% of 1000) from rounding up to the next rank.
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// latencySummary is what the grow table reports of the per-Store latencies.
type latencySummary struct {
	count               int
	p50, p99, p999, max time.Duration
	over100us           int // samples above 100µs
	cdf                 []cdfPoint
}

// cdfPoint is one point of a downsampled empirical distribution: a
// fraction frac of the samples are <= ns.
type cdfPoint struct {
	ns   float64
	frac float64 // F(ns)
	tail float64 // fraction of samples >= ns, never 0
}

// summarize sorts samples in place and summarizes them.
func summarize(samples []int64) latencySummary {
	slices.Sort(samples)
	n := len(samples)
	s := latencySummary{
		count: n,
		p50:   time.Duration(percentile(samples, 50)),
		p99:   time.Duration(percentile(samples, 99)),
		p999:  time.Duration(percentile(samples, 99.9)),
		max:   time.Duration(percentile(samples, 100)),
	}
	i, _ := slices.BinarySearch(samples, int64(100*time.Microsecond)+1)
	s.over100us = n - i
	s.cdf = downsampleCDF(samples, 300)
	return s
}

// downsampleCDF picks about 2×points samples of sorted for plotting: evenly
// spaced ranks for the body and ranks evenly spaced on a log scale of the
// tail fraction, so the rare slow Stores (p99.99, max) stay visible.
func downsampleCDF(sorted []int64, points int) []cdfPoint {
	n := len(sorted)
	if n == 0 {
		return nil
	}
	idx := make([]int, 0, 2*points+1)
	for i := range points {
		idx = append(idx, i*(n-1)/max(points-1, 1))
	}
	// Tail fractions from 1 down to 1/n, log-spaced.
	lg := math.Log10(float64(n))
	for i := range points {
		tail := math.Pow(10, -lg*float64(i)/float64(max(points-1, 1)))
		idx = append(idx, min(n-1, max(0, n-int(math.Round(tail*float64(n))))))
	}
	idx = append(idx, n-1)
	slices.Sort(idx)
	idx = slices.Compact(idx)
	out := make([]cdfPoint, len(idx))
	for j, i := range idx {
		out[j] = cdfPoint{ns: float64(max(sorted[i], 1)), frac: float64(i+1) / float64(n), tail: float64(n-i) / float64(n)}
	}
	return out
}
