package stress

import (
	"flag"
	"os"
	"testing"
	"time"
)

// soakDuration turns TestSoak on; see doc.go.
var soakDuration = flag.Duration("stress.duration", 0,
	"run TestSoak with this `duration` per scenario (or set STRESS_DURATION); pass -timeout 0 too")

// soakBudget is the soak duration per scenario from -stress.duration or,
// failing that, $STRESS_DURATION; 0 if neither is set.
func soakBudget(t *testing.T) time.Duration {
	if *soakDuration != 0 {
		return *soakDuration
	}
	env := os.Getenv("STRESS_DURATION")
	if env == "" {
		return 0
	}
	d, err := time.ParseDuration(env)
	if err != nil || d < 0 {
		t.Fatalf("STRESS_DURATION=%q: want a duration such as 30m", env)
	}
	return d
}

// TestSoak puts cmap under each of cmapConfigs (Run and the cmap
// scenarios), cmap with boxed values and with string keys (Run), cmap's
// bounded scenarios and
// sync.Map (Run) through the harness for as long per scenario as
// -stress.duration or STRESS_DURATION asks: soakScenarios() times that long
// in all, or less for the subtests picked with -run (such as -run
// Soak/cmap-default). It skips when neither is set.
func TestSoak(t *testing.T) {
	d := soakBudget(t)
	if d == 0 {
		t.Skip("soak mode is off; turn it on with go test -run Soak -timeout 0 ./stress -stress.duration=30m (or STRESS_DURATION=30m)")
	}
	if deadline, ok := t.Deadline(); ok {
		t.Logf("note: -timeout ends the soak in %v; each scenario takes %v (all of TestSoak %d×): pass -timeout 0 for long soaks",
			time.Until(deadline).Round(time.Second), d, soakScenarios())
	}
	opts := Options{Duration: d}
	for i, c := range cmapConfigs {
		t.Run("cmap-"+c.name, func(t *testing.T) {
			runCmap(t, i, opts, false)
			runCmapOnly(t, maker(i, false), opts)
		})
	}
	t.Run("cmap-boxed", func(t *testing.T) { Run(t, newBoxedCmap, opts) })
	t.Run("cmap-string-keys", func(t *testing.T) { Run(t, newStringCmap, opts) })
	t.Run("cmap-bounded", func(t *testing.T) { runCmapBounded(t, opts) })
	t.Run("sync.Map", func(t *testing.T) {
		Run(t, func() Map { return new(SyncMap) }, opts)
	})
}

// soakScenarios is the number of scenarios TestSoak runs.
func soakScenarios() int {
	return len(cmapConfigs)*(len(scenarios)+len(cmapScenarios)) + 3*len(scenarios) + len(boundScenarios)
}

// TestSoakScenarios keeps the count that doc.go gives for TestSoak true.
func TestSoakScenarios(t *testing.T) {
	if n := soakScenarios(); n != 117 {
		t.Errorf("TestSoak runs %d scenarios; doc.go says 117", n)
	}
}
