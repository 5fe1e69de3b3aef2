package cmap_test

import (
	"errors"
	"fmt"

	"github.com/segmap/segmap/cmap"
)

// A cache in front of a backend that can fail: a failed fetch is returned
// to its caller and not cached, so the next request for the key tries the
// backend again; a successful one is stored, and later requests load it
// without calling the backend.
func ExampleMap_LoadOrTryCompute() {
	backendUp := false
	fetch := func(user string) func() (string, error) {
		return func() (string, error) {
			fmt.Println("fetching", user)
			if !backendUp {
				return "", errors.New("backend unavailable")
			}
			return "profile of " + user, nil
		}
	}
	cache := cmap.New[string, string]()

	_, _, err := cache.LoadOrTryCompute("ada", fetch("ada"))
	fmt.Println("error:", err)

	backendUp = true
	v, loaded, err := cache.LoadOrTryCompute("ada", fetch("ada"))
	fmt.Println(v, loaded, err)

	v, loaded, err = cache.LoadOrTryCompute("ada", fetch("ada"))
	fmt.Println(v, loaded, err)
	// Output:
	// fetching ada
	// error: backend unavailable
	// fetching ada
	// profile of ada false <nil>
	// profile of ada true <nil>
}
