// Package cmap provides [Map], a concurrent hash map.
package cmap
