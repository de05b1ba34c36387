package crds

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoInternalImports keeps api/ importable from outside deckhand: no
// non-test file under api/ may import a deckhand package outside api/.
func TestNoInternalImports(t *testing.T) {
	const module = "github.com/deckhand-dev/deckhand/"
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) && !strings.HasPrefix(p, module+"api/") && p != module+"api" {
				t.Errorf("%s imports %s: api/ must not depend on the rest of deckhand", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
