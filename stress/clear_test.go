package stress

import (
	"testing"
	"time"
)

// TestClearSkippedWithoutClear checks that the Clear scenarios skip a map
// without a Clear method, rather than pass it.
func TestClearSkippedWithoutClear(t *testing.T) {
	cfg, err := resolve(Options{Duration: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		if sc.name != "clear-linearizability" && sc.name != "clear-atomic" {
			continue
		}
		var skipped bool
		t.Run(sc.name, func(t *testing.T) {
			t.Cleanup(func() { skipped = t.Skipped() })
			runScenario(t, sc.name, cfg, func(s *state) { sc.run(s, func() Map { return newLockedMap() }) })
		})
		if !skipped {
			t.Errorf("%s did not skip a map without Clear", sc.name)
		}
	}
}
