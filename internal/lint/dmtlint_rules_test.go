package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Settings for linters and rules deckhand lacks are reported as warnings
// naming the setting and the file; settings it honours are not.
func TestLintReportsDmtlintSettingsDeckhandIgnores(t *testing.T) {
	dir := newModule(t, "cfg")
	writeFile(t, dir, ".dmtlint.yaml", `linters-settings:
  images:
    exclude-rules: {skip-image-file-path-prefix: [x]}
  templates:
    exclude-rules:
      no-such-rule:
        - kind: Deployment
          name: cfg
      service-port:
        - name: cfg
    rules:
      no-such-rule-either: {impact: warn}
      helm-render: {impact: warn}
    no-such-setting: {disable: true}
  module:
    oss: {disable: true}
    impact: error
global:
  linters-settings:
    no-such-linter: {impact: warn}
`, 0o644)
	res := lint(t, dir)
	want := map[string]int{
		`linters-settings.images.exclude-rules.skip-image-file-path-prefix: deckhand does not implement`:         3,
		`linters-settings.templates.exclude-rules.no-such-rule: deckhand does not implement rule "no-such-rule"`: 6,
		`linters-settings.templates.rules.no-such-rule-either: deckhand does not implement rule`:                 12,
		`linters-settings.templates.no-such-setting: deckhand does not implement rule "no-such-setting"`:         14,
		`global.linters-settings.no-such-linter: deckhand has no "no-such-linter" linter`:                        20,
	}
	got := 0
	for _, p := range res.Problems {
		if p.Rule != "dmtlint" {
			continue
		}
		got++
		if p.File != ".dmtlint.yaml" || p.Severity != SeverityWarning {
			t.Errorf("want a warning on .dmtlint.yaml, got %s", p)
		}
		matched := false
		for msg, line := range want {
			if strings.Contains(p.Message, msg) {
				matched = true
				if p.Line != line {
					t.Errorf("%q: line %d, want %d", msg, p.Line, line)
				}
			}
		}
		if !matched {
			t.Errorf("unexpected: %s", p)
		}
	}
	if got != len(want) {
		t.Errorf("%d dmtlint warnings, want %d:\n%s", got, len(want), problemsText(res.Problems))
	}
}

// Every rule a lint_*.go file reports is in implementedRules, so settings for
// it are not called ignored.
func TestImplementedRulesListsEveryRule(t *testing.T) {
	linters := map[string]string{"LinterModule": LinterModule, "LinterOpenAPI": LinterOpenAPI, "LinterTemplates": LinterTemplates,
		"LinterContainer": LinterContainer, "LinterHooks": LinterHooks, "LinterDocumentation": LinterDocumentation,
		"LinterNoCyrillic": LinterNoCyrillic, "LinterRBAC": LinterRBAC, "LinterImages": LinterImages}
	ruleRe := regexp.MustCompile(`(Linter[A-Za-z]+),\s+(?:Rule:\s+)?"([a-z0-9-]+)"`)
	containerRe := regexp.MustCompile(`(?:add|lintProbe\(add)\(?,?\s*"([a-z0-9-]+)"`)
	files, err := filepath.Glob("lint*.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ruleRe.FindAllStringSubmatch(string(data), -1) {
			seen++
			if m[2] == "dmtlint" {
				continue // about .dmtlint.yaml itself; no setting applies to it
			}
			if !implementedRules[linters[m[1]]][m[2]] {
				t.Errorf("%s reports %s rule %q, missing from implementedRules", f, linters[m[1]], m[2])
			}
		}
		if f == "lint_container.go" {
			for _, m := range containerRe.FindAllStringSubmatch(string(data), -1) {
				seen++
				if !implementedRules[LinterContainer][m[1]] {
					t.Errorf("%s reports container rule %q, missing from implementedRules", f, m[1])
				}
			}
		}
	}
	if seen < 20 {
		t.Fatalf("found only %d rule reports: the pattern no longer matches the sources", seen)
	}
}
