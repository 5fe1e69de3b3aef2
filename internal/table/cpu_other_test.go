//go:build !linux

package table

import "testing"

// cpuPerOp reports nothing where the thread's CPU time is not available
// (see the Linux version).
func cpuPerOp(b *testing.B) func() { return func() {} }

// clock returns 0 where the thread's CPU time is not available (see the
// Linux version).
func clock() int64 { return 0 }
