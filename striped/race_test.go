//go:build race

package striped_test

// raceEnabled reports whether the race detector is on. A test that proves
// the harness catches a deliberately broken lock must not run then: the
// race detector would report the broken lock first, and fail the run.
const raceEnabled = true
