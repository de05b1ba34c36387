package lint

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/template"

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
	if err := addWerfTemplates(tmpl, filepath.Join(dir, ".werf")); err != nil {
		return "", err
	}
	if _, err := tmpl.Parse(content); err != nil {
		return "", err
	}
	ctx := map[string]any{
		"Root":             map[string]any{"Files": werfFiles{root: dir, moduleDir: dir}, "Env": "EE"},
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
