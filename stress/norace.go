//go:build !race

package stress

// raceEnabled reports whether the binary was built with -race, for the
// replay command.
const raceEnabled = false
