package deckhand_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/lint"
)

// notApplicable are the module linter's rules that are about a DKP module's
// layout or conventions, not about a plain Helm chart; the chart's README.md
// says why each one does not apply. Every other rule (the container and
// templates rules on the rendered objects) must pass.
const notApplicable = `
linters-settings:
  module:
    definition-file: {disable: true}  # no module.yaml: the chart is not a module
    license: {disable: true}          # Flant's license header is for Deckhouse's own modules
    helmignore: {disable: true}       # a plain chart ships README.md and installs crds/ through Helm
  documentation:
    readme: {disable: true}           # docs/README.md is a module's; the chart has README.md
  openapi:
    deckhouse-crds: {disable: true}   # the module label is for a module's own CRDs; these are the platform's
    bilingual: {disable: true}        # crds/doc-ru-* translations are for a module's docs site
  container:
    object-recommended-labels: {disable: true}  # module/heritage labels are DKP's; the chart uses app.kubernetes.io/*
    image-digest: {disable: true}               # the chart's image comes from its own release tag, not a module registry
    priority-class: {disable: true}             # DKP's priority classes (cluster-low, ...) exist only in DKP clusters
  rbac:
    placement: {disable: true}        # rbac-for-us.yaml placement is a module's layout
  templates:
    vpa: {disable: true}              # the chart runs where DKP's vertical-pod-autoscaler may not
`

func lintConfig(t *testing.T) *lint.LintConfig {
	t.Helper()
	cfg, err := lint.ParseLintConfig("lint_test.go", []byte(notApplicable))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLint(t *testing.T) {
	res, err := (&lint.Lint{Config: lintConfig(t)}).Run(context.Background(), chartDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Errorf("%s:%d: %s/%s (%s): %s", p.File, p.Line, p.Linter, p.Rule, p.Severity, p.Message)
	}
}

// TestLintSeesContainers guards TestLint against passing vacuously: the
// same chart with a writable root filesystem must fail the container rule.
func TestLintSeesContainers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deckhand")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	vals := filepath.Join(dir, "values.yaml")
	data, err := os.ReadFile(vals)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", 1)
	if broken == string(data) {
		t.Fatal("values.yaml: no readOnlyRootFilesystem: true to flip")
	}
	if err := os.WriteFile(vals, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := (&lint.Lint{Config: lintConfig(t)}).Run(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		if p.Linter == lint.LinterContainer && p.Rule == "read-only-root-filesystem" && p.Container == "operator" {
			return
		}
	}
	t.Errorf("linter did not flag the writable root filesystem; problems: %+v", res.Problems)
}
