package snapshot_test

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segmap/segmap/snapshot"
)

// TestGodoc: the documentation of package snapshot shows Snapshot with its
// methods, and no constructor, which no user could call.
func TestGodoc(t *testing.T) {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/segmap/segmap/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Funcs {
		t.Errorf("package snapshot exports func %s", f.Name)
	}
	var methods []string
	for _, typ := range p.Types {
		for _, f := range typ.Funcs {
			t.Errorf("package snapshot exports func %s, returning %s", f.Name, typ.Name)
		}
		if typ.Name != "Snapshot" {
			continue
		}
		for _, m := range typ.Methods {
			methods = append(methods, m.Name)
		}
		// The declaration shows a struct of package snapshot, with nothing
		// of the internal packages in it.
		var b bytes.Buffer
		if err := printer.Fprint(&b, fset, typ.Decl); err != nil {
			t.Fatal(err)
		}
		decl := b.String()
		if !strings.Contains(decl, "struct") || strings.Contains(decl, "internal") || strings.Contains(decl, "snapshotimpl") || strings.Contains(decl, "table.") {
			t.Errorf("godoc shows Snapshot as\n%s\nwant a struct whose fields are all hidden", decl)
		}
	}
	want := []string{"All", "InOrder", "Keys", "Len", "Load", "MarshalJSON", "Values"}
	if slices.Sort(methods); !slices.Equal(methods, want) {
		t.Errorf("godoc shows Snapshot methods %v, want %v", methods, want)
	}
}

// TestGoDocCommand runs go doc itself, as a user does: Snapshot is a
// struct with its fields hidden, and its methods are listed.
func TestGoDocCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command; skipped with -short")
	}
	// go test puts its own go command first in the PATH.
	out, err := exec.Command("go", "doc", ".", "Snapshot").CombinedOutput()
	if err != nil {
		t.Fatalf("go doc . Snapshot: %v\n%s", err, out)
	}
	doc := string(out)
	if !strings.Contains(doc, "type Snapshot[K comparable, V any] struct {\n\t// Has unexported fields.\n}") {
		t.Errorf("go doc does not show Snapshot as a struct with hidden fields:\n%s", doc)
	}
	for _, bad := range []string{"snapshotimpl", "internal/", "func New"} {
		if strings.Contains(doc, bad) {
			t.Errorf("go doc shows %q:\n%s", bad, doc)
		}
	}
	for _, m := range []string{"All", "InOrder", "Keys", "Len", "Load", "MarshalJSON", "Values"} {
		recv := "*Snapshot" // MarshalJSON's is a value, for copies held by value
		if m == "MarshalJSON" {
			recv = "Snapshot"
		}
		if !strings.Contains(doc, "func (s "+recv+"[K, V]) "+m+"(") {
			t.Errorf("go doc does not list the method %s:\n%s", m, doc)
		}
	}
}

// TestZeroSnapshot: a Snapshot not made by cmap (the zero value, which
// the exported type allows) panics with a message naming the way to make
// one, rather than with a nil dereference.
func TestZeroSnapshot(t *testing.T) {
	var s snapshot.Snapshot[string, int]
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "snapshot: zero Snapshot: snapshots are made by cmap.Map.Snapshot") {
			t.Fatalf("Len of a zero Snapshot: recover() = %v", r)
		}
	}()
	s.Len()
}
