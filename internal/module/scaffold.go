package module

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"text/template"

	"github.com/deckhand-dev/deckhand/internal/values"
)

//go:embed all:scaffold
var scaffoldFS embed.FS

// Scaffold creates a new module directory (deckhand module init): module.yaml,
// Chart.yaml, openapi schemas with x-examples, a Deployment (with its
// PodDisruptionBudget and, where DKP's vertical-pod-autoscaler module is
// enabled, its VerticalPodAutoscaler) and ConfigMap that pass Lint, a
// deterministic beforeHelm shell hook with its test cases under tests/
// (deckhand module test), docs/README.md and README.ru.md and .helmignore.
type Scaffold struct {
	// Name is the kebab-case module name.
	Name string
	// Dir is the directory to create; it must not exist or be empty.
	Dir string
}

// Run writes the module and returns the files written, relative to Dir.
// Nothing is written when the name is invalid or Dir is not empty.
func (s *Scaffold) Run() ([]string, error) {
	key, err := values.ModuleKey(s.Name)
	if err != nil {
		return nil, err
	}
	if len(s.Name) > 64 {
		return nil, fmt.Errorf("module name %q is longer than 64 characters", s.Name)
	}
	if entries, err := os.ReadDir(s.Dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("directory %s is not empty", s.Dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", s.Dir, err)
	}
	data := map[string]string{"Name": s.Name, "Key": key, "Namespace": "d8-" + s.Name}
	rendered := map[string][]byte{}
	modes := map[string]fs.FileMode{}
	err = fs.WalkDir(scaffoldFS, "scaffold", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := scaffoldFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := p[len("scaffold/"):]
		tmpl, err := template.New(rel).Delims("[%", "%]").Option("missingkey=error").Parse(string(src))
		if err != nil {
			return fmt.Errorf("scaffold template %s: %w", rel, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, data); err != nil {
			return fmt.Errorf("scaffold template %s: %w", rel, err)
		}
		rendered[rel] = buf.Bytes()
		modes[rel] = 0o644
		if path.Dir(rel) == "hooks" {
			modes[rel] = 0o755
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	files := make([]string, 0, len(rendered))
	for rel := range rendered {
		files = append(files, rel)
	}
	sort.Strings(files)
	if err := writeAtomically(s.Dir, files, rendered, modes); err != nil {
		return nil, err
	}
	return files, nil
}

// writeAtomically writes the files into a temporary sibling directory and
// renames it into place, so a failure leaves no half-written module behind.
func writeAtomically(dir string, files []string, content map[string][]byte, modes map[string]fs.FileMode) error {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, ".deckhand-init-*")
	if err != nil {
		return fmt.Errorf("creating a temporary directory in %s: %w", parent, err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	for _, rel := range files {
		dst := filepath.Join(tmp, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", filepath.Dir(dst), err)
		}
		if err := os.WriteFile(dst, content[rel], modes[rel]); err != nil {
			return fmt.Errorf("writing %s: %w", rel, err)
		}
		if err := os.Chmod(dst, modes[rel]); err != nil {
			return fmt.Errorf("setting mode of %s: %w", rel, err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("setting mode of %s: %w", dir, err)
	}
	// Run checked that dir is absent or empty; an empty one is replaced.
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replacing empty directory %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("moving the new module into %s: %w", dir, err)
	}
	done = true
	return nil
}
