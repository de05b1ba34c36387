package lint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// lintWerfImages runs templates/werf: the image names images/*/werf.inc.yaml
// define have no underscores. Each file is rendered the way a module's werf
// build renders it; a file that needs more than the module to render (build
// context of the full werf pipeline) is skipped, as dmt skips it.
func lintWerfImages(c *collector, m *module.Module) {
	entries, err := os.ReadDir(filepath.Join(m.Dir, "images"))
	if err != nil {
		return
	}
	for _, e := range entries {
		rel := "images/" + e.Name() + "/werf.inc.yaml"
		data, err := os.ReadFile(filepath.Join(m.Dir, filepath.FromSlash(rel)))
		if !e.IsDir() || err != nil {
			continue
		}
		out, err := renderWerfInc(m.Dir, e.Name(), string(data))
		if err != nil {
			continue
		}
		reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(out)))
		for doc := 1; ; doc++ {
			chunk, err := reader.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				c.add(LinterTemplates, "werf", rel, 0, "rendered document %d is not YAML: %v", doc, err)
				break
			}
			var img struct {
				Image any `json:"image"`
			}
			if err := sigsyaml.Unmarshal(chunk, &img); err != nil {
				c.add(LinterTemplates, "werf", rel, 0, "rendered document %d is not YAML: %v", doc, err)
				continue
			}
			if name := fmt.Sprint(img.Image); img.Image != nil && strings.Contains(name, "_") {
				c.add(LinterTemplates, "werf", rel, lineOf(m.Dir, rel, "image:"),
					"image name %q (document %d) must not contain underscores: werf image names cannot", name, doc)
			}
		}
	}
}

// renderWerfInc executes a werf.inc.yaml with the context a module build
// gives it, and the module's .werf/**/*.tmpl defines available to include.
// The environment is fixed (EE, no env variables) so results do not depend on
// who runs the linter.
func renderWerfInc(dir, image, content string) (string, error) {
	tmpl := template.New("werf.inc.yaml")
	tmpl.Funcs(werfFuncs(tmpl))
	werfDir := filepath.Join(dir, ".werf")
	err := filepath.WalkDir(werfDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || filepath.Ext(path) != ".tmpl" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = tmpl.New(filepath.ToSlash(relTo(werfDir, path))).Parse(string(data))
		return err
	})
	if err != nil {
		return "", err
	}
	if _, err := tmpl.Parse(content); err != nil {
		return "", err
	}
	ctx := map[string]any{
		"Root":             map[string]any{"Files": werfFiles{dir: dir}, "Env": "EE"},
		"ImageName":        image,
		"ImagePath":        "/images/" + image,
		"ModuleNamePrefix": "",
		"ModuleDir":        "/",
		"GOPROXY":          "https://proxy.golang.org,direct",
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "werf.inc.yaml", ctx); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func werfFuncs(tmpl *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "expandenv")
	delete(f, "env")
	f["env"] = func(_ any, fallback ...string) string {
		if len(fallback) > 0 {
			return fallback[0]
		}
		return ""
	}
	f["include"] = func(name string, data any) (string, error) {
		var buf bytes.Buffer
		err := tmpl.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	n := 0
	f["tpl"] = func(text string, data any) (string, error) {
		n++
		t, err := tmpl.New(fmt.Sprintf("tpl-%d", n)).Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	f["toYaml"] = func(v any) string {
		data, err := sigsyaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	f["fromYaml"] = func(s string) (map[string]any, error) {
		out := map[string]any{}
		return out, sigsyaml.Unmarshal([]byte(s), &out)
	}
	f["required"] = func(msg string, v any) (any, error) {
		if v == nil || v == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	return f
}

// werfFiles is .Files of a werf template, rooted at the module directory.
type werfFiles struct{ dir string }

func (f werfFiles) path(rel string) string {
	return filepath.Join(f.dir, filepath.FromSlash(rel))
}

// Get returns a file's content, "" when it cannot be read.
func (f werfFiles) Get(rel string) string {
	data, _ := os.ReadFile(f.path(rel))
	return string(data)
}

// Exists reports whether the file exists.
func (f werfFiles) Exists(rel string) bool { return fileExists(f.path(rel)) }

// Glob maps the module-relative paths matching pattern to their contents.
func (f werfFiles) Glob(pattern string) map[string]any {
	out := map[string]any{}
	matches, _ := filepath.Glob(f.path(pattern))
	for _, p := range matches {
		if data, err := os.ReadFile(p); err == nil {
			out[relTo(f.dir, p)] = string(data)
		}
	}
	return out
}
