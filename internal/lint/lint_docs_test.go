package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// notNotices drops markdownlint findings, for tests about other rules whose
// fixtures are not tidy Markdown.
func notNotices(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if p.Rule != "markdownlint" {
			out = append(out, p)
		}
	}
	return out
}

// docRuleCase is one module change and what the rule must report after it:
// want is a message part, or "" for nothing from the rule.
type docRuleCase struct {
	name   string
	linter string
	rule   string
	files  map[string]string
	remove []string
	file   string
	line   int
	want   string
	sev    Severity
}

func runDocRuleCases(t *testing.T, cases []docRuleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := newModule(t, "texts")
			for _, rel := range tc.remove {
				if err := os.Remove(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
					t.Fatal(err)
				}
			}
			for rel, content := range tc.files {
				writeFile(t, dir, rel, content, 0o644)
			}
			res := lint(t, dir)
			var got []Problem
			for _, p := range res.Problems {
				if p.Linter == tc.linter && p.Rule == tc.rule {
					got = append(got, p)
				}
			}
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("want no %s/%s problem, got:\n%s", tc.linter, tc.rule, problemsText(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("want one %s/%s problem, got:\n%s", tc.linter, tc.rule, problemsText(res.Problems))
			}
			p := got[0]
			sev := tc.sev
			if sev == "" {
				sev = SeverityError
			}
			if p.File != tc.file || p.Line != tc.line || !strings.Contains(p.Message, tc.want) || p.Severity != sev {
				t.Fatalf("got %s (%s), want %s:%d %q (%s)", p, p.Severity, tc.file, tc.line, tc.want, sev)
			}
		})
	}
}

func TestDocumentationRules(t *testing.T) {
	const doc = "documentation"
	runDocRuleCases(t, []docRuleCase{
		{name: "readme ok", linter: doc, rule: "readme"},
		{name: "readme missing", linter: doc, rule: "readme", remove: []string{"docs/README.md"}, file: "docs/README.md", want: "is missing"},
		{name: "readme empty", linter: doc, rule: "readme", files: map[string]string{"docs/README.md": ""}, file: "docs/README.md", want: "is empty"},
		{name: "bilingual ok (.ru.md)", linter: doc, rule: "bilingual", files: map[string]string{"docs/FAQ.md": "# FAQ\n", "docs/FAQ.ru.md": "# ЧаВо\n"}},
		{name: "bilingual ok (old _RU.md)", linter: doc, rule: "bilingual", files: map[string]string{"docs/FAQ.md": "# FAQ\n", "docs/FAQ_RU.md": "# ЧаВо\n"}},
		{name: "bilingual ok (subfolder not checked)", linter: doc, rule: "bilingual", files: map[string]string{"docs/internal/notes.md": "x\n"}},
		{name: "bilingual missing", linter: doc, rule: "bilingual", files: map[string]string{"docs/FAQ.md": "# FAQ\n"}, file: "docs/FAQ.md", want: "add docs/FAQ.ru.md"},
		{name: "cyrillic-in-english ok", linter: doc, rule: "cyrillic-in-english", files: map[string]string{"docs/README_RU.md": "Привет\n"}},
		{name: "cyrillic-in-english found", linter: doc, rule: "cyrillic-in-english", files: map[string]string{"docs/README.md": "# Hello\n\nOne\nПривет, world\n"}, file: "docs/README.md", line: 4, want: "line 4: Привет, world"},
		{name: "no-lang-key ok", linter: doc, rule: "no-lang-key", files: map[string]string{"docs/README.md": "---\ntitle: x\n---\nlang: en is fine in the body\n"}},
		{name: "no-lang-key found", linter: doc, rule: "no-lang-key", files: map[string]string{"docs/README.md": "---\ntitle: x\nlang: en\n---\n# x\n"}, file: "docs/README.md", line: 3, want: "lang key"},
		{name: "no-lang-key empty value", linter: doc, rule: "no-lang-key", files: map[string]string{"docs/README.md": "---\nlang:\ntitle: x\n---\n"}, file: "docs/README.md", line: 2, want: "lang key"},
		{name: "front-matter ok", linter: doc, rule: "front-matter", files: map[string]string{"docs/guide/a.md": "---\ntitle: a\n---\n# a\n", "docs/b.md": "# b\n---\nnot: [front matter\n"}},
		{name: "front-matter unterminated", linter: doc, rule: "front-matter", files: map[string]string{"docs/guide/a.md": "---\ntitle: a\n# a\n"}, file: "docs/guide/a.md", line: 1, want: "never closed"},
		{name: "front-matter invalid", linter: doc, rule: "front-matter", files: map[string]string{"docs/README.md": "\ufeff---\ntitle: [a\n---\n"}, file: "docs/README.md", line: 1, want: "not valid YAML"},
		{name: "front-matter not a mapping", linter: doc, rule: "front-matter", files: map[string]string{"docs/README.md": "---\n- a\n---\n"}, file: "docs/README.md", line: 1, want: "mapping", sev: SeverityWarning},
		{name: "front-matter skips docs/internal", linter: doc, rule: "front-matter", files: map[string]string{"docs/internal/a.md": "---\ntitle: [a\n---\n"}},
		{name: "size ok", linter: doc, rule: "size", files: map[string]string{"docs/internal/big.bin": strings.Repeat("x", docsSizeLimit+1)}},
		{name: "size over", linter: doc, rule: "size", files: map[string]string{"docs/images/big.bin": strings.Repeat("x", docsSizeLimit+1)}, file: "docs", want: "over the 15 MiB limit", sev: SeverityWarning},
		{name: "markdownlint only README", linter: doc, rule: "markdownlint", remove: []string{"docs/README.ru.md"}},
		{name: "markdownlint clean page", linter: doc, rule: "markdownlint", files: map[string]string{"docs/README.ru.md": "---\ntitle: Модуль\n---\n\n## Описание\n\nТекст.\n"}},
		{name: "markdownlint heading jump", linter: doc, rule: "markdownlint", files: map[string]string{"docs/README.ru.md": "# Модуль\n\n### Описание\n\nТекст.\n"}, file: "docs/README.ru.md", line: 3, want: "MD001"},
	})
}

func TestNoCyrillicRules(t *testing.T) {
	runDocRuleCases(t, []docRuleCase{
		{name: "files ok", linter: LinterNoCyrillic, rule: "files", files: map[string]string{
			"openapi/doc-ru-config-values.yaml": "properties: {a: {description: Привет}}\n",
			"crds/things.ru.yaml":               "a: Привет\n",
			"i18n/messages.json":                `{"a": "Привет"}`,
			"templates/notes.txt":               "Привет\n",
		}},
		{name: "files found", linter: LinterNoCyrillic, rule: "files", files: map[string]string{"templates/cm.yaml": "# comment\ndata:\n  a: Привет\n"}, file: "templates/cm.yaml", line: 3, want: "line 3: a: Привет"},
		{name: "files found in go", linter: LinterNoCyrillic, rule: "files", files: map[string]string{"hooks/go/main.go": "package main\n// Пример\n"}, file: "hooks/go/main.go", line: 2, want: "Пример"},
		{name: "files excluded", linter: LinterNoCyrillic, rule: "files", files: map[string]string{
			"templates/cm.yaml":  "a: Привет\n",
			"images/x/data.json": `{"a": "Привет"}`,
			LintConfigFile:       "linters-settings:\n  no-cyrillic:\n    exclude-rules:\n      files: [templates/cm.yaml]\n      directories: [images/x]\n",
		}},
	})
}

const deckhouseCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.texts.deckhouse.io
  labels: {module: texts}
spec:
  group: texts.deckhouse.io
  scope: Cluster
  names: {kind: Thing, plural: things}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            mode: {type: string, enum: [Fast, Master]}
`

func TestOpenAPIFileRules(t *testing.T) {
	const oa = LinterOpenAPI
	ruCRD := "spec:\n  versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n          description: Вещь\n"
	external := strings.NewReplacer("things.texts.deckhouse.io", "things.example.io", "texts.deckhouse.io", "example.io").Replace(deckhouseCRD)
	runDocRuleCases(t, []docRuleCase{
		{name: "enum ok", linter: oa, rule: "enum", files: map[string]string{"crds/things.yaml": deckhouseCRD, "crds/doc-ru-things.yaml": ruCRD}},
		{name: "enum in extra openapi file", linter: oa, rule: "enum", files: map[string]string{"openapi/extra/x.yaml": "properties:\n  a:\n    enum: [Good, bad-one, on]\n"}, file: "openapi/extra/x.yaml", line: 3, want: `"bad-one"`},
		{name: "enum on a file that is not a mapping", linter: oa, rule: "enum", files: map[string]string{"openapi/extra/list.yaml": "- a\n"}, file: "openapi/extra/list.yaml", want: "not a mapping"},
		{name: "enum skips external CRDs", linter: oa, rule: "enum", files: map[string]string{"crds/things.yaml": strings.Replace(external, "Fast", "fast", 1), "crds/doc-ru-things.yaml": ruCRD}},
		{name: "enum in a Deckhouse CRD", linter: oa, rule: "enum", files: map[string]string{"crds/things.yaml": strings.Replace(deckhouseCRD, "Fast", "fast", 1), "crds/doc-ru-things.yaml": ruCRD}, file: "crds/things.yaml", line: 18, want: `"fast"`},
		{name: "keys ok (nothing banned by default)", linter: oa, rule: "keys", files: map[string]string{"crds/things.yaml": deckhouseCRD, "crds/doc-ru-things.yaml": ruCRD}},
		{name: "keys banned", linter: oa, rule: "keys", files: map[string]string{"crds/things.yaml": deckhouseCRD, "crds/doc-ru-things.yaml": ruCRD,
			LintConfigFile: "linters-settings:\n  openapi:\n    exclude-rules:\n      key-banned-names: [Master]\n"}, file: "crds/things.yaml", line: 18, want: `"Master" is a banned name`},
		{name: "bilingual ok", linter: oa, rule: "bilingual", files: map[string]string{"crds/things.yaml": deckhouseCRD, "crds/doc-ru-things.yaml": ruCRD}},
		{name: "bilingual missing translation", linter: oa, rule: "bilingual", files: map[string]string{"crds/things.yaml": deckhouseCRD}, file: "crds/things.yaml", want: "add crds/doc-ru-things.yaml"},
		{name: "bilingual orphan translation", linter: oa, rule: "bilingual", files: map[string]string{"crds/doc-ru-gone.yaml": ruCRD}, file: "crds/doc-ru-gone.yaml", want: "crds/gone.yaml is missing"},
		{name: "doc-ru-yaml ok", linter: oa, rule: "doc-ru-yaml", files: map[string]string{"openapi/doc-ru-config-values.yaml": "properties: {}\n"}},
		{name: "doc-ru-yaml broken", linter: oa, rule: "doc-ru-yaml", files: map[string]string{"openapi/doc-ru-config-values.yaml": "properties: [\n"}, file: "openapi/doc-ru-config-values.yaml", want: "not a valid YAML mapping"},
		{name: "doc-ru-yaml not a mapping", linter: oa, rule: "doc-ru-yaml", files: map[string]string{"openapi/doc-ru-config-values.yaml": "- a\n"}, file: "openapi/doc-ru-config-values.yaml", want: "not a valid YAML mapping"},
		{name: "deckhouse-validations ok", linter: oa, rule: "deckhouse-validations", files: map[string]string{"openapi/extra/v.yaml": "type: object\nx-deckhouse-validations:\n  - expression: self.a > 1\n    message: a must exceed 1\n"}},
		{name: "deckhouse-validations bad CEL", linter: oa, rule: "deckhouse-validations", files: map[string]string{"openapi/extra/v.yaml": "type: object\nx-deckhouse-validations:\n  - expression: self.a >\n    message: m\n"}, file: "openapi/extra/v.yaml", line: 3, want: "not valid CEL", sev: SeverityWarning},
		{name: "deckhouse-validations kubernetes key", linter: oa, rule: "deckhouse-validations", files: map[string]string{"openapi/extra/v.yaml": "type: object\nproperties:\n  a:\n    x-kubernetes-validations: []\n"}, file: "openapi/extra/v.yaml", line: 4, want: "properties.a.x-kubernetes-validations: x-kubernetes-validations is ignored", sev: SeverityWarning},
		{name: "deckhouse-validations not a list", linter: oa, rule: "deckhouse-validations", files: map[string]string{"openapi/extra/v.yaml": "x-deckhouse-validations: {expression: x}\n"}, file: "openapi/extra/v.yaml", line: 1, want: "must be a list", sev: SeverityWarning},
	})
}

// Impacts follow dmt: markdownlint findings are errors, size stays a warning under a linter
// impact of error, a rule impact raises size, nothing raises dmt's warn-only
// findings, and ignored silences a rule.
func TestDocumentationImpacts(t *testing.T) {
	dir := newModule(t, "impacts")
	writeFile(t, dir, "docs/images/big.bin", strings.Repeat("x", docsSizeLimit+1), 0o644)
	writeFile(t, dir, "docs/README.ru.md", "---\n- a\n---\n\n# A\n\n### B\n", 0o644)
	writeFile(t, dir, LintConfigFile, "linters-settings:\n  documentation:\n    impact: error\n", 0o644)
	sev := func(res *LintResult) map[string]Severity {
		out := map[string]Severity{}
		for _, p := range res.Problems {
			out[p.Rule] = p.Severity
		}
		return out
	}
	got := sev(lint(t, dir))
	if got["markdownlint"] != SeverityError || got["size"] != SeverityWarning || got["front-matter"] != SeverityWarning {
		t.Fatalf("linter impact error raised a rule dmt keeps at warn: %v", got)
	}
	writeFile(t, dir, LintConfigFile, "global:\n  linters-settings:\n    documentation:\n      rules:\n        size: {impact: error}\n        front-matter: {impact: error}\n        markdownlint: {impact: ignored}\n", 0o644)
	got = sev(lint(t, dir))
	if got["size"] != SeverityError || got["front-matter"] != SeverityWarning {
		t.Fatalf("rule impacts: %v", got)
	}
	if _, ok := got["markdownlint"]; ok {
		t.Fatal("markdownlint impact ignored did not silence it")
	}
}

// exclude-rules keys that are not rule names (no-cyrillic's directories,
// openapi's key-banned-names) are honoured, so not reported as ignored.
func TestExclusionKeysAreNotUnsupported(t *testing.T) {
	dir := newModule(t, "keys")
	writeFile(t, dir, LintConfigFile, "linters-settings:\n  no-cyrillic:\n    exclude-rules:\n      directories: [images]\n      files: [a.yaml]\n  openapi:\n    exclude-rules:\n      key-banned-names: [Master]\n      nope: [x]\n", 0o644)
	var got []string
	for _, p := range lint(t, dir).Problems {
		if p.Rule == "dmtlint" {
			got = append(got, p.Message)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "linters-settings.openapi.exclude-rules.nope") {
		t.Fatalf("want only the unknown openapi key reported, got %q", got)
	}
}

// The files dmt's no-cyrillic linter skips (translations, module.yaml,
// conversions, i18n...) and similar names it does not.
func TestNoCyrillicSkippedPaths(t *testing.T) {
	for rel, skipped := range map[string]bool{
		"doc-ru-resources.yaml": true, "openapi/doc-ru-values.yaml": true, "values.ru.yaml": true,
		"CHANGELOG/v0.3.21.ru.yml": true, "messages.ru.json": true, "docs/site/_header.yaml": true,
		"docs/documentation/_nav.yaml": true, "tools/spelling/wordlist.yaml": true,
		"openapi/conversions/v1.yaml": true, "module.yaml": true, "ru.meta.deckhouse.io.yaml": true,
		"config/ru.description.yaml": true, "i18n/messages.yaml": true, "no_cyrillic_test.go": true,
		"config.yaml": false, "data.json": false, "main.go": false, "templates/configmap.yaml": false,
		"instructions.yaml": false, "images/stronghold-automatic/config.yaml": false,
	} {
		dir := t.TempDir()
		writeFile(t, dir, rel, "a: Привет\n", 0o644)
		c := &collector{}
		lintNoCyrillic(c, dir)
		if got := len(c.problems) == 0; got != skipped {
			t.Errorf("%s: skipped=%v, want %v (%v)", rel, got, skipped, c.problems)
		}
	}
}
