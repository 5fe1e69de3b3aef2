package stress

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The command line of a test binary that imports this package: a seed to
// replay, and a directory for porcupine's visualizations.
var (
	seedFlag = flag.Uint64("stress.seed", 0,
		"replay the stress run with this `seed` (or set STRESS_SEED); it overrides Options.Seed")
	htmlFlag = flag.String("stress.html", "",
		"write porcupine's visualization of each history that is not linearizable into `dir`")
)

// seedEnv is the environment variable that sets the seed when the flag
// -stress.seed does not.
const seedEnv = "STRESS_SEED"

// replaySeed is the seed the command line asks for, from -stress.seed or,
// failing that, $STRESS_SEED; 0 if neither is set.
func replaySeed() (uint64, error) {
	if *seedFlag != 0 {
		return *seedFlag, nil
	}
	env := os.Getenv(seedEnv)
	if env == "" {
		return 0, nil
	}
	seed, err := strconv.ParseUint(env, 10, 64)
	if err != nil || seed == 0 {
		return 0, fmt.Errorf("stress: %s=%q: want a seed, a positive integer", seedEnv, env)
	}
	return seed, nil
}

// replayHint tells how to replay the subtest t with the run-wide seed: the
// exact go test command, run from the module's root.
func replayHint(t *testing.T, seed uint64) string {
	return fmt.Sprintf("[seed %d; replay: %s]", seed, replayCommand(t.Name(), seed))
}

// replayCommand is the go test command that reruns the test called name
// (its subtests anchored, so no other runs) with seed.
func replayCommand(name string, seed uint64) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	race := ""
	if raceEnabled {
		race = "-race "
	}
	return fmt.Sprintf("go test %s-count=1 -run '%s' %s -stress.seed=%d", race, strings.Join(parts, "/"), packageDir(), seed)
}

// packageDir names the directory of the test being run, relative to the
// root of its module (go test runs a test binary in its package's
// directory), as go test wants it: "./stress", or "." if there is no
// go.mod above it.
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			rel, err := filepath.Rel(dir, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}
