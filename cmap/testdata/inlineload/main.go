// Command inlineload instantiates cmap's Load for the shapes of its
// hand-inlined read paths, for TestLoadInlines, which builds it with
// -gcflags=-m and reads the disassembly, and the write paths of flat and
// arena maps, for TestWritePathsCopyNoStructs and the light-write tests. It does not import sync/atomic:
// an instantiating package that does not must get the same code.
package main

import (
	"fmt"

	"github.com/segmap/segmap/cmap"
)

func main() {
	a := cmap.New[uint64, uint64]()
	a.Store(1, 2)
	b := cmap.New[string, *int]()
	b.Store("a", new(int))
	c := cmap.New[[2]uint64, uint64]()
	c.Store([2]uint64{1, 2}, 3)
	fmt.Println(a.Load(1))
	fmt.Println(b.Load("a"))
	fmt.Println(c.Load([2]uint64{1, 2}))
	d := cmap.New[string, int]()
	d.Store("a", 1)
	fmt.Println(d.Load("a"))
	inc := func(old int, _ bool) (int, cmap.ComputeOp) { return old + 1, cmap.UpdateOp }
	d.Compute("a", inc)
	fmt.Println(d.LoadOrStore("b", 2))
	fmt.Println(d.CompareAndSwap("b", 2, 3), d.CompareAndDelete("b", 3))
	d.Delete("a")
	a.Compute(1, func(old uint64, _ bool) (uint64, cmap.ComputeOp) { return old + 1, cmap.UpdateOp })
	fmt.Println(a.LoadOrStore(3, 4))
	fmt.Println(a.CompareAndSwap(3, 4, 5), a.CompareAndDelete(3, 5))
	a.Delete(1)
	fmt.Println(a.Len(), d.Len())
}
