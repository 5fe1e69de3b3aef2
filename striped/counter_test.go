package striped_test

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/segmap/segmap/striped"
)

func TestCounterZeroValue(t *testing.T) {
	t.Parallel()
	var c striped.Counter
	if got := c.Load(); got != 0 {
		t.Fatalf("zero Counter: Load() = %d, want 0", got)
	}
	c.Inc()
	c.Inc()
	c.Dec()
	c.Add(41)
	c.Add(-2)
	if got := c.Load(); got != 40 {
		t.Fatalf("Load() = %d, want 40", got)
	}
	if c.Inflated() {
		t.Fatal("an uncontended Counter grew cells")
	}
	c.Reset()
	if got := c.Load(); got != 0 {
		t.Fatalf("after Reset, Load() = %d, want 0", got)
	}
	if got := striped.NewCounter().Load(); got != 0 {
		t.Fatalf("NewCounter().Load() = %d, want 0", got)
	}
}

// TestCounterExactSum adds from many goroutines, with deltas of both
// signs, and checks the exact total; one reader checks meanwhile that Load
// stays within what has been added. It runs on a counter that starts
// plain and on one already inflated, so both paths are taken.
func TestCounterExactSum(t *testing.T) {
	t.Parallel()
	for _, inflated := range []bool{false, true} {
		name := "start=plain"
		if inflated {
			name = "start=inflated"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := striped.NewCounter()
			if inflated {
				c.Inflate()
			}
			const workers = 8
			adds := 20000
			if testing.Short() || raceEnabled {
				adds = 3000
			}
			var wg sync.WaitGroup
			for id := range workers {
				wg.Go(func() {
					for i := range adds {
						switch i % 4 {
						case 0:
							c.Inc()
						case 1:
							c.Dec()
						default:
							c.Add(int64(id + 1))
						}
					}
				})
			}
			wg.Wait()
			want := int64(0)
			for id := range workers {
				want += int64(adds/4) * 2 * int64(id+1)
			}
			if got := c.Load(); got != want {
				t.Fatalf("Load() = %d after concurrent adds, want %d", got, want)
			}
			if inflated {
				cells := c.CellValues()
				if n, want := len(cells), nextPow2(4*runtime.GOMAXPROCS(0)); n != want {
					t.Errorf("%d cells, want %d", n, want)
				}
				sum := int64(0)
				for _, v := range cells {
					sum += v
				}
				if sum != want {
					t.Errorf("cells sum to %d, want %d (all Adds of an inflated counter go to cells)", sum, want)
				}
			}
		})
	}
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return min(p, 1024)
}

// TestCounterLoadIsMonotonicUnderPositiveAdds checks what Load promises
// while Adds run: with only positive deltas every cell only grows, so
// successive Loads never decrease and never exceed the final total.
func TestCounterLoadIsMonotonicUnderPositiveAdds(t *testing.T) {
	t.Parallel()
	c := striped.NewCounter()
	const workers, adds = 4, 5000
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range adds {
				c.Add(3)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	last := int64(0)
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		default:
		}
		v := c.Load()
		if v < last || v > 3*workers*adds {
			t.Fatalf("Load() = %d after %d: not in [%d, %d]", v, last, last, 3*workers*adds)
		}
		last = v
	}
	if got := c.Load(); got != 3*workers*adds {
		t.Fatalf("Load() = %d, want %d", got, 3*workers*adds)
	}
}

// TestCounterInflatesUnderContention checks that contention is detected:
// goroutines adding at once make the counter grow cells.
func TestCounterInflatesUnderContention(t *testing.T) {
	t.Parallel()
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for Adds to collide")
	}
	// On idle cores the first collision comes within microseconds; on a
	// loaded machine the threads may share one core, and then only a
	// preemption between the load and the CAS makes one: allow seconds.
	c := striped.NewCounter()
	deadline := time.Now().Add(5 * time.Second)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !c.Inflated() && time.Now().Before(deadline) {
				for range 1000 {
					c.Inc()
				}
			}
		})
	}
	wg.Wait()
	if !c.Inflated() {
		t.Fatalf("4 goroutines made %d Adds in 5s without a collision", c.Load())
	}
}

// TestCounterSpreadsGoroutines checks that goroutines running at the same
// time use different cells: the stack-address hash works.
func TestCounterSpreadsGoroutines(t *testing.T) {
	t.Parallel()
	c := striped.NewCounter()
	c.Inflate()
	// All of them must be alive while any of them adds: a goroutine that
	// has exited may hand its stack to the next one (as happens under the
	// race detector, whose frames make each goroutine grow its stack).
	const goroutines = 32
	var added, exited sync.WaitGroup
	start, finish := make(chan struct{}), make(chan struct{})
	for range goroutines {
		added.Add(1)
		exited.Go(func() {
			<-start
			c.Inc()
			added.Done()
			<-finish
		})
	}
	close(start)
	added.Wait()
	close(finish)
	exited.Wait()
	used := 0
	for _, v := range c.CellValues() {
		if v != 0 {
			used++
		}
	}
	// With 4 or more cells (cellsPerP = 4) and a working hash, 32
	// goroutines all on one or two cells has a probability below 1e-8.
	if used < 3 {
		t.Fatalf("%d goroutines used %d of %d cells: %v", goroutines, used, len(c.CellValues()), c.CellValues())
	}
	if got := c.Load(); got != goroutines {
		t.Fatalf("Load() = %d, want %d", got, goroutines)
	}
}

func TestCounterReset(t *testing.T) {
	t.Parallel()
	c := striped.NewCounter()
	c.Add(5) // in base
	c.Inflate()
	c.Add(7) // in a cell
	if got := c.Load(); got != 12 {
		t.Fatalf("Load() = %d, want 12", got)
	}
	c.Reset()
	if got := c.Load(); got != 0 {
		t.Fatalf("after Reset, Load() = %d, want 0", got)
	}

	// Concurrent with Adds, each Add is erased or kept whole: with
	// positive deltas the result is between 0 and their total.
	const workers, adds = 4, 2000
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range adds {
				c.Add(2)
			}
		})
	}
	for range 50 {
		c.Reset()
		runtime.Gosched()
	}
	wg.Wait()
	if got := c.Load(); got < 0 || got > 2*workers*adds || got%2 != 0 {
		t.Fatalf("after Resets racing Adds of 2, Load() = %d, want an even number in [0, %d]", got, 2*workers*adds)
	}
}

func TestCounterAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocations")
	}
	var plain striped.Counter
	inflated := striped.NewCounter()
	inflated.Inflate()
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"plain/Add", func() { plain.Add(3) }},
		{"inflated/Add", func() { inflated.Add(3) }},
		{"inflated/Load", func() { inflated.Load() }},
	} {
		if got := testing.AllocsPerRun(100, tc.f); got != 0 {
			t.Errorf("%s: %v allocations, want 0", tc.name, got)
		}
	}
}
