package lint

import (
	"strings"
	"testing"
)

const okDockerfile = "FROM $BASE_GOLANG_ALPINE AS build\nRUN go build\nFROM $BASE_DISTROLESS\n"

// Each images rule: a module that follows it is clean, one that breaks it
// gets the finding on the right file and line.
func TestLintImagesRules(t *testing.T) {
	werfOK := "project: x\nconfigVersion: 1\n---\nimage: img/app\nfromImage: base/distroless\n"
	cases := []struct {
		name       string
		files      map[string]string
		file, rule string
		line       int
		msg        string
	}{
		{"dockerfile", map[string]string{"images/app/Dockerfile": "FROM alpine:3.18 AS build\nFROM $BASE_DISTROLESS\n"},
			"images/app/Dockerfile", "dockerfile", 1, "use $BASE_ALPINE"},
		{"distroless final", map[string]string{"images/app/Dockerfile": "FROM $BASE_GOLANG_ALPINE\nFROM $BASE_UBUNTU\n"},
			"images/app/Dockerfile", "distroless", 2, "last FROM must use a distroless"},
		{"distroless intermediate", map[string]string{"images/app/Dockerfile": "FROM node:18 AS b\nFROM $BASE_DISTROLESS\n"},
			"images/app/Dockerfile", "distroless", 1, "@sha256: digest"},
		{"patch outside images", map[string]string{"patches/001-a.patch": "x", "patches/README.md": "# 001-a.patch\n"},
			"patches", "patches", 0, "images/<image>/patches/"},
		{"patch readme missing", map[string]string{"images/app/patches/001-a.patch": "x"},
			"images/app/patches", "patches", 0, "needs a README.md"},
		{"patch name", map[string]string{"images/app/patches/fix.patch": "x", "images/app/patches/README.md": "# fix.patch\n"},
			"images/app/patches/fix.patch", "patches", 0, "NNN-<name>.patch"},
		{"patch undocumented", map[string]string{"images/app/patches/001-a.patch": "x", "images/app/patches/README.md": "# other\n"},
			"images/app/patches/001-a.patch", "patches", 0, `"# 001-a.patch" heading`},
		{"werf fromImage", map[string]string{"werf.yaml": strings.Replace(werfOK, "base/distroless", "{{ .Env | lower }}/alpine", 1)},
			"werf.yaml", "werf", 0, `fromImage "ee/alpine" must be a DKP base image`},
		{"werf artifact", map[string]string{"werf.yaml": werfOK + "artifact: old\n"},
			"werf.yaml", "werf", 0, "artifact: is deprecated"},
		{"werf user", map[string]string{"werf.yaml": werfOK + "imageSpec:\n  config:\n    user: root\n"},
			"werf.yaml", "werf", 0, `imageSpec.config.user "root" must be empty`},
		{"werf glob", map[string]string{
			"werf.yaml":                "{{ range $p, $c := .Files.Glob \"images/**/{Dockerfile,werf.inc.yaml}\" }}{{ if hasSuffix \"werf.inc.yaml\" $p }}---\n{{ $c }}\n{{ end }}{{ end }}",
			"images/app/werf.inc.yaml": "image: img/app\nfromImage: ubuntu\n"},
			"werf.yaml", "werf", 0, `fromImage "ubuntu" must be a DKP base image`},
		{"werf render", map[string]string{"werf.yaml": "{{ include \"missing\" . }}"},
			"werf.yaml", "werf", 0, "rendering werf.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := newModule(t, "img")
			writeFile(t, dir, "oss.yaml", "- name: x\n  description: x\n  link: https://x\n  license: MIT\n  version: 1.0.0\n", 0o644)
			for f, content := range tc.files {
				writeFile(t, dir, f, content, 0o644)
			}
			res := lint(t, dir)
			wantProblem(t, res, tc.file, tc.line, tc.rule, tc.msg)
			// dockerfile and distroless warn (dmt's release never runs them);
			// the other images rules are errors, as in dmt.
			for _, p := range res.Problems {
				want := SeverityError
				if p.Rule == "dockerfile" || p.Rule == "distroless" {
					want = SeverityWarning
				}
				if p.Linter == LinterImages && p.Severity != want {
					t.Errorf("images finding is %s, want %s: %s", p.Severity, want, p)
				}
			}
		})
	}
	t.Run("clean", func(t *testing.T) {
		dir := newModule(t, "img")
		writeFile(t, dir, "oss.yaml", "- name: x\n  description: x\n  link: https://x\n  license: MIT\n  version: 1.0.0\n", 0o644)
		writeFile(t, dir, "images/app/Dockerfile", okDockerfile, 0o644)
		writeFile(t, dir, "images/tool/Dockerfile", "FROM golang@sha256:"+strings.Repeat("a", 64)+" AS b\nFROM scratch\n", 0o644)
		writeFile(t, dir, "images/app/patches/001-fix.patch", "x", 0o644)
		writeFile(t, dir, "images/app/patches/README.md", "# 001-fix.patch\nWhy.\n", 0o644)
		writeFile(t, dir, "werf.yaml", werfOK+"---\nimage: img/builder\nfromImage: golang\nfinal: false\n---\nimage: other/x\nfromImage: ubuntu\n", 0o644)
		for _, p := range lint(t, dir).Problems {
			if p.Linter == LinterImages {
				t.Errorf("clean images reported: %s", p)
			}
		}
	})
}

// .dmtlint.yaml: skip-distroless-file-path-prefix drops dockerfile findings
// and turns distroless ones into a warning; werf/patches disable and
// rules.image impact work as in dmt.
func TestLintImagesDmtlint(t *testing.T) {
	dir := newModule(t, "img")
	writeFile(t, dir, "oss.yaml", "- name: x\n  description: x\n  link: https://x\n  license: MIT\n  version: 1.0.0\n", 0o644)
	writeFile(t, dir, "images/legacy/Dockerfile", "FROM alpine:3.18\n", 0o644)
	writeFile(t, dir, "images/app/Dockerfile", "FROM ubuntu:22.04\n", 0o644)
	writeFile(t, dir, "images/app/patches/bad.patch", "x", 0o644)
	writeFile(t, dir, ".dmtlint.yaml", `linters-settings:
  images:
    exclude-rules:
      skip-distroless-file-path-prefix: [legacy]
    patches: {disable: true}
global:
  linters-settings:
    images:
      rules:
        image: {impact: warn}
`, 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "images/legacy/Dockerfile", 1, "distroless", "distroless check skipped")
	wantProblem(t, res, "images/app/Dockerfile", 1, "dockerfile", "$BASE_UBUNTU")
	for _, p := range res.Problems {
		switch {
		case p.Rule == "dmtlint":
			t.Errorf("supported setting called ignored: %s", p)
		case p.File == "images/legacy/Dockerfile" && p.Severity != SeverityWarning:
			t.Errorf("excluded image reported as error: %s", p)
		case p.Rule == "dockerfile" && p.Severity != SeverityWarning:
			t.Errorf("rules.image impact not applied: %s", p)
		case p.Rule == "patches":
			t.Errorf("disabled rule reported: %s", p)
		}
	}
}
