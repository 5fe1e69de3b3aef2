package snapshot_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
	}
	want := []string{"All", "InOrder", "Keys", "Len", "Load", "MarshalJSON", "Values"}
	if slices.Sort(methods); !slices.Equal(methods, want) {
		t.Errorf("godoc shows Snapshot methods %v, want %v", methods, want)
	}
}
