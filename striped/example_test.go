package striped_test

import (
	"errors"
	"fmt"
	"sync"

	"github.com/segmap/segmap/striped"
)

// Stripes guard sharded state by index: each shard has its own lock, so
// writers of different shards run in parallel, and LockAll gives a
// consistent view of all shards at once.
func ExampleStripes() {
	const shards = 4
	locks := striped.NewStripes(shards)
	var totals [shards]int // totals[i] is guarded by stripe i

	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				shard := (w + i) % shards
				locks.Lock(shard)
				totals[shard] += i
				locks.Unlock(shard)
			}
		})
	}
	wg.Wait()

	locks.LockAll() // no writer is inside any shard now
	sum := 0
	for _, t := range totals {
		sum += t
	}
	locks.UnlockAll()
	fmt.Println("stripes:", locks.Len(), "sum:", sum)
	// Output: stripes: 4 sum: 39600
}

// LockIndices takes several stripes at once, in the global order, so that
// goroutines listing the same stripes in different orders cannot deadlock.
func ExampleStripes_LockIndices() {
	locks := striped.NewStripes(8)
	var cells [8]int // cells[i] is guarded by stripe i

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for range 1000 {
				// Half the goroutines list 1 before 6, half 6 before 1.
				a, b := 1, 6
				if w%2 == 1 {
					a, b = b, a
				}
				unlock := locks.LockIndices(a, b, a)
				cells[a]++
				cells[b]--
				unlock()
			}
		})
	}
	wg.Wait()
	fmt.Println(cells[1], cells[6])
	// Output: 0 0
}

type account struct {
	name    string
	balance int // guarded by the stripe of name
}

var errInsufficient = errors.New("insufficient funds")

// transfer moves amount between two accounts atomically: no other
// transfer, and no audit under LockAll, sees the money in flight.
func transfer(locks *striped.Striped[string], from, to *account, amount int) error {
	unlock := locks.LockKeys(from.name, to.name) // any order: LockKeys sorts
	defer unlock()
	if from.balance < amount {
		return errInsufficient
	}
	from.balance -= amount
	to.balance += amount
	return nil
}

// LockKeys makes a multi-key update atomic: a transfer between two
// accounts locks both, whichever way round, without deadlock, while
// transfers between other accounts run in parallel.
func ExampleStriped_LockKeys() {
	locks := striped.New[string](64)
	accounts := []*account{{"alice", 1000}, {"bob", 1000}, {"carol", 1000}}

	var wg sync.WaitGroup
	for i := range 300 {
		from, to := accounts[i%3], accounts[(i+1)%3]
		if i%2 == 1 {
			from, to = to, from // transfers go both ways round
		}
		wg.Go(func() {
			if err := transfer(locks, from, to, 5); err != nil {
				fmt.Println(err)
			}
		})
	}
	// An audit may run at any time: under LockAll no money is in flight.
	locks.LockAll()
	total := 0
	for _, a := range accounts {
		total += a.balance
	}
	locks.UnlockAll()
	wg.Wait()

	fmt.Println("total during transfers:", total)
	for _, a := range accounts {
		fmt.Println(a.name, a.balance)
	}
	// Output:
	// total during transfers: 3000
	// alice 1000
	// bob 1000
	// carol 1000
}

// A Counter takes Adds from many goroutines without making them fight over
// one cache line; Load sums it once they are done.
func ExampleCounter() {
	var requests striped.Counter // the zero value is ready to use

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				requests.Inc()
			}
		})
	}
	wg.Wait()
	requests.Add(-500)
	fmt.Println(requests.Load())
	// Output: 7500
}

// RWStriped suits read-mostly state: readers of a key share its stripe,
// and a writer has it alone.
func ExampleRWStriped() {
	locks := striped.NewRW[string](16)
	type entry struct{ version int }
	config := map[string]*entry{"timeout": {}, "retries": {}} // the map itself is never written

	var wg sync.WaitGroup
	for i := range 100 {
		key := []string{"timeout", "retries"}[i%2]
		wg.Go(func() {
			if i%5 == 0 { // a writer
				locks.Lock(key)
				config[key].version++
				locks.Unlock(key)
				return
			}
			locks.RLock(key) // a reader: many at once
			_ = config[key].version
			locks.RUnlock(key)
		})
	}
	wg.Wait()

	unlock := locks.RLockKeys("retries", "timeout")
	fmt.Println(config["timeout"].version, config["retries"].version)
	unlock()
	// Output: 10 10
}
