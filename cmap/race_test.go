//go:build race

package cmap_test

// raceEnabled reports whether the race detector is on. Single-goroutine
// model tests run fewer steps then: the detector has nothing to find in
// them and slows them tenfold.
const raceEnabled = true
