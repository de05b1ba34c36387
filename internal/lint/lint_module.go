package lint

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v4/pkg/ignore"
	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// lintDefinition runs dmt's module/definition-file rule on module.yaml.
func lintDefinition(c *collector, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, module.DefinitionFile))
	if errors.Is(err, fs.ErrNotExist) {
		c.add(LinterModule, "definition-file", module.DefinitionFile, 0, "module.yaml is missing (it names the module and its requirements)")
		return
	}
	if err != nil {
		c.add(LinterModule, "definition-file", module.DefinitionFile, 0, "%v", err)
		return
	}
	def, doc, err := module.ParseDefinition(module.DefinitionFile, data)
	for _, e := range unjoin(err) {
		if e == nil {
			continue
		}
		var fe *module.FileError
		if errors.As(e, &fe) {
			c.add(LinterModule, "definition-file", module.DefinitionFile, fe.Line, "%s", messageOf(fe.Field, fe.Err))
		} else {
			c.add(LinterModule, "definition-file", module.DefinitionFile, 0, "%v", e)
		}
	}
	if def == nil {
		return
	}
	lintUnknownKeys(c, data, doc)
	if def.Descriptions.En == "" {
		c.add(LinterModule, "definition-file", module.DefinitionFile, doc.Line("descriptions"), "descriptions.en is required")
	}
	lintDefinitionDmt(c, def, doc)
}

var definitionKeys = map[string]bool{
	"name": true, "weight": true, "critical": true, "stage": true, "namespace": true, "subsystems": true,
	"tags": true, "exclusiveGroup": true, "description": true, "descriptions": true, "requirements": true,
	"disable": true, "accessibility": true, "update": true,
}

func lintUnknownKeys(c *collector, data []byte, doc *module.Document) {
	raw := map[string]any{}
	if yaml.Unmarshal(data, &raw) != nil {
		return
	}
	for k := range raw {
		if !definitionKeys[k] {
			c.add(LinterModule, "definition-file", module.DefinitionFile, doc.Line(k), "unknown field %q", k)
		}
	}
}

// lintFiles runs the file-presence rules: helmignore, legacy-release-file,
// enabled-script and oss.
func lintFiles(c *collector, dir string) {
	hi, err := os.ReadFile(filepath.Join(dir, ".helmignore"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.add(LinterModule, "helmignore", ".helmignore", 0, ".helmignore is missing: exclude crds, hooks, images and openapi from the Helm release")
	case err != nil:
		c.add(LinterModule, "helmignore", ".helmignore", 0, "%v", err)
	default:
		lines := 0
		for i, line := range strings.Split(string(hi), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			lines++
			switch strings.TrimSuffix(strings.TrimPrefix(line, "/"), "/") {
			case "*", "**":
				c.add(LinterModule, "helmignore", ".helmignore", i+1, "pattern %q ignores the whole chart", line)
			case "templates", "Chart.yaml", "templates/*":
				c.add(LinterModule, "helmignore", ".helmignore", i+1, "pattern %q hides %s from Helm", line, line)
			}
		}
		if lines == 0 {
			c.add(LinterModule, "helmignore", ".helmignore", 0, ".helmignore has no patterns")
		} else {
			lintHelmignoreCoverage(c, dir, hi)
		}
	}
	if fileExists(filepath.Join(dir, "release.yaml")) {
		c.add(LinterModule, "legacy-release-file", "release.yaml", 0, "release.yaml is not used any more: the version comes from the release image's version.json")
	}
	switch data, err := os.ReadFile(filepath.Join(dir, "enabled")); {
	case err == nil && strings.TrimSpace(string(data)) != "":
		c.warn(LinterModule, "enabled-script", "enabled", 0, "the enabled script is deprecated; prefer module.yaml requirements")
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		c.add(LinterModule, "enabled-script", "enabled", 0, "reading the enabled script: %v", err)
	}
	lintOSS(c, dir)
	lintLicense(c, dir)
	lintPackage(c, dir)
}

func lintOSS(c *collector, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "oss.yaml"))
	if errors.Is(err, fs.ErrNotExist) {
		if fileExists(filepath.Join(dir, "images")) {
			c.add(LinterModule, "oss", "oss.yaml", 0, "oss.yaml is missing: a module with images lists the open-source projects it ships")
		}
		return
	}
	if err != nil {
		c.add(LinterModule, "oss", "oss.yaml", 0, "%v", err)
		return
	}
	var list []map[string]any
	if err := yaml.Unmarshal(data, &list); err != nil {
		c.add(LinterModule, "oss", "oss.yaml", 0, "must be a list of projects: %v", err)
		return
	}
	for i, p := range list {
		for _, k := range []string{"name", "description", "link", "license"} {
			if s, _ := p[k].(string); s == "" {
				c.add(LinterModule, "oss", "oss.yaml", 0, "project [%d]: %s is required", i, k)
			}
		}
		if p["version"] == nil && p["versions"] == nil {
			c.add(LinterModule, "oss", "oss.yaml", 0, "project [%d]: version or versions is required", i)
		}
	}
}

// chartEntries are the module root entries Helm must see (the chart itself);
// every other root entry should be in .helmignore, as dmt's helmignore rule
// asks, or Helm packs it into each release Secret.
var chartEntries = map[string]bool{"templates": true, "charts": true, "monitoring": true, "Chart.yaml": true, "values.yaml": true, ".helmignore": true}

// lintHelmignoreCoverage warns about module root files and directories that
// .helmignore (with Helm's own defaults) does not leave out of the chart.
func lintHelmignoreCoverage(c *collector, dir string, helmignore []byte) {
	rules, err := ignore.Parse(bytes.NewReader(helmignore))
	if err != nil {
		c.add(LinterModule, "helmignore", ".helmignore", 0, "cannot parse .helmignore: %v", err)
		return
	}
	rules.AddDefaults()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if chartEntries[e.Name()] {
			continue
		}
		info, err := e.Info()
		if err != nil || rules.Ignore(e.Name(), info) {
			continue
		}
		what, name := "file", e.Name()
		if e.IsDir() {
			what, name = "directory", name+"/"
		}
		c.warn(LinterModule, "helmignore", ".helmignore", 0, "%s %q is not listed in .helmignore: Helm would pack it into every release of the module", what, name)
	}
}
