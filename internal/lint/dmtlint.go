package lint

import (
	"errors"
	"fmt"
	"github.com/deckhand-dev/deckhand/internal/module"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// indexWildcard lets "a.list[*].b" in an exclusion match any index.
var indexWildcard = regexp.MustCompile(`\[[0-9]+\]`)

// LintConfigFile is dmt's per-module linter configuration file.
const LintConfigFile = ".dmtlint.yaml"

// LintConfig is a parsed .dmtlint.yaml: impacts per linter and rule, disabled
// rules and exclusions, in dmt's format.
type LintConfig struct {
	// File is the path read ("" when none was found).
	File   string
	module map[string]any
	global map[string]any
	// doc finds the lines of keys for UnsupportedSettings.
	doc *module.Document
}

// FindLintConfig looks for .dmtlint.yaml in dir and its parents, as dmt does
// (dmt also reads $HOME; deckhand does not, so results do not depend on who runs it).
func FindLintConfig(dir string) (*LintConfig, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, LintConfigFile)
		data, err := os.ReadFile(p)
		if err == nil {
			return ParseLintConfig(p, data)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		if filepath.Dir(d) == d {
			return &LintConfig{}, nil
		}
	}
}

// ParseLintConfig parses .dmtlint.yaml content.
func ParseLintConfig(file string, data []byte) (*LintConfig, error) {
	raw := map[string]any{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, &module.FileError{File: file, Err: fmt.Errorf("parsing YAML: %w", err)}
	}
	c := &LintConfig{File: file}
	c.doc, _ = module.ParseDocument(data) // parsed above; nil only gives line 0
	var ok bool
	if v, has := raw["linters-settings"]; has {
		if c.module, ok = v.(map[string]any); !ok {
			return nil, &module.FileError{File: file, Field: "linters-settings", Err: errors.New("must be an object")}
		}
	}
	if g, has := raw["global"].(map[string]any); has {
		if v, has := g["linters-settings"]; has {
			if c.global, ok = v.(map[string]any); !ok {
				return nil, &module.FileError{File: file, Field: "global.linters-settings", Err: errors.New("must be an object")}
			}
		}
	}
	for _, section := range []map[string]any{c.module, c.global} {
		for linter, v := range section {
			if _, ok := v.(map[string]any); !ok {
				return nil, &module.FileError{File: file, Field: "linters-settings." + linter, Err: errors.New("must be an object")}
			}
			if imp := impactOf(v); imp != "" && !validImpact(imp) {
				return nil, &module.FileError{File: file, Field: "linters-settings." + linter + ".impact", Err: fmt.Errorf("%q is not one of ignored, warn, error, critical", imp)}
			}
		}
	}
	return c, nil
}

// Apply returns p with the configured severity, or false when the rule is
// ignored, disabled or the object is excluded.
func (c *LintConfig) Apply(p Problem) (Problem, bool) {
	if c == nil {
		return p, true
	}
	mod, _ := c.module[p.Linter].(map[string]any)
	glob, _ := c.global[p.Linter].(map[string]any)
	key := settingsKeyOf(p.Linter, p.Rule)
	if rs, ok := mod[key].(map[string]any); ok && rs["disable"] == true {
		return p, false
	}
	ruleKey := key
	if p.Linter == LinterImages && p.Rule == "dockerfile" {
		ruleKey = "image" // dmt's setting name for the rule it reports as dockerfile
	}
	impact := firstNonEmpty(ruleImpact(mod, ruleKey), impactOf(mod), ruleImpact(glob, ruleKey), impactOf(glob))
	switch strings.ToLower(impact) {
	case "ignored":
		return p, false
	case "warn", "warning":
		p.Severity = SeverityWarning
	case "error", "critical":
		ruleSet := ruleImpact(mod, p.Rule) != "" || ruleImpact(glob, p.Rule) != ""
		if p.Severity == SeverityError || p.ceiling == raisable || (p.ceiling == ruleRaisable && ruleSet) {
			p.Severity = SeverityError
		}
	}
	if ex, ok := mod["exclude-rules"].(map[string]any); ok {
		if paths, ok := ex[p.Rule].(map[string]any); ok && excludesPath(paths, p.File) {
			return p, false
		}
		// The rule id is honoured too where dmt's key differs (deckhand read it
		// before), and so are exclusion-only keys (no-cyrillic's directories).
		keys := []string{key}
		if key != p.Rule {
			keys = append(keys, p.Rule)
		}
		for k, rule := range exclusionKeys[p.Linter] {
			if rule == p.Rule {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			list, _ := ex[k].([]any)
			for _, entry := range list {
				if excludes(entry, p) {
					return p, false
				}
			}
		}
	}
	return p, true
}

func excludes(entry any, p Problem) bool {
	switch e := entry.(type) {
	case string:
		if e == "" {
			return false
		}
		if p.File == e || strings.HasPrefix(p.File, strings.TrimSuffix(e, "/")+"/") {
			return true
		}
		if p.Key != "" && (p.Key == e || indexWildcard.ReplaceAllString(p.Key, "[*]") == e) {
			return true
		}
		return p.Object != nil && (p.Object.Name == e || p.Object.Namespace == e)
	case map[string]any:
		matched := false
		for k, v := range e {
			s, _ := v.(string)
			switch k {
			case "kind":
				if p.Object == nil || p.Object.Kind != s {
					return false
				}
			case "name":
				if p.Object == nil || p.Object.Name != s {
					return false
				}
			case "namespace":
				if p.Object == nil || p.Object.Namespace != s {
					return false
				}
			case "container":
				if p.Container != s {
					return false
				}
			case "files", "directories":
				list, _ := v.([]any)
				hit := false
				for _, f := range list {
					if fs, ok := f.(string); ok && excludes(fs, Problem{File: p.File}) {
						hit = true
					}
				}
				if !hit {
					return false
				}
			default:
				continue
			}
			matched = true
		}
		return matched
	}
	return false
}

func ruleImpact(linter map[string]any, rule string) string {
	rules, _ := linter["rules"].(map[string]any)
	return impactOf(rules[rule])
}

func impactOf(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["impact"].(string)
	return s
}

func validImpact(s string) bool {
	switch strings.ToLower(s) {
	case "ignored", "warn", "warning", "error", "critical":
		return true
	}
	return false
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// excludesPath applies dmt's path exclusion {files: [...], directories: [...]}
// (module/license): a file listed exactly, or one under a listed directory.
func excludesPath(e map[string]any, file string) bool {
	files, _ := e["files"].([]any)
	for _, f := range files {
		if s, ok := f.(string); ok && s == file {
			return true
		}
	}
	dirs, _ := e["directories"].([]any)
	for _, d := range dirs {
		if s, ok := d.(string); ok && s != "" {
			dir := strings.TrimSuffix(s, "/")
			if file == dir || strings.HasPrefix(file, dir+"/") {
				return true
			}
		}
	}
	return false
}
