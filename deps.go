//go:build tools

package tools

import (
	_ "github.com/anishathalye/porcupine"
	_ "github.com/cespare/xxhash/v2"
	_ "github.com/puzpuzpuz/xsync/v3"
	_ "github.com/puzpuzpuz/xsync/v4"
	_ "go.uber.org/goleak"
	_ "gonum.org/v1/plot"
)
