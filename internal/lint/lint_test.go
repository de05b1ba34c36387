package lint

import (
	"context"
	"fmt"
	"github.com/deckhand-dev/deckhand/internal/module"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lint(t *testing.T, dir string) *LintResult {
	t.Helper()
	res, err := (&Lint{}).Run(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wantProblem fails unless a problem with this file, rule and message part exists;
// line > 0 also checks the line.
func wantProblem(t *testing.T, res *LintResult, file string, line int, rule, msgPart string) {
	t.Helper()
	for _, p := range res.Problems {
		if p.File == file && p.Rule == rule && strings.Contains(p.Message, msgPart) && (line == 0 || p.Line == line) {
			return
		}
	}
	t.Errorf("no problem %s:%d %s %q among:\n%s", file, line, rule, msgPart, problemsText(res.Problems))
}

func TestLintBadModuleYAML(t *testing.T) {
	dir := newModule(t, "bad-def")
	writeFile(t, dir, module.DefinitionFile, "name: bad-def\nstage: Beta\nweigth: 10\n", 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "module.yaml", 2, "definition-file", `stage: "Beta"`)
	wantProblem(t, res, "module.yaml", 3, "definition-file", `unknown field "weigth"`)
	wantProblem(t, res, "module.yaml", 0, "definition-file", "descriptions.en is required")
	if res.Errors() == 0 {
		t.Fatal("no errors counted")
	}
	if p := notNotices(res.Problems)[0]; !strings.HasPrefix(p.String(), "module.yaml:") {
		t.Errorf("String() = %q", p.String())
	}
}

func TestLintBadName(t *testing.T) {
	dir := newModule(t, "bad-name")
	def := strings.Replace(readFile(t, dir, module.DefinitionFile), "name: bad-name", "name: badName", 1)
	writeFile(t, dir, module.DefinitionFile, def, 0o644)
	wantProblem(t, lint(t, dir), "module.yaml", 1, "definition-file", "name: module name \"badName\" is not kebab-case")
}

func TestLintInvalidSchema(t *testing.T) {
	dir := newModule(t, "bad-schema")
	writeFile(t, dir, "openapi/config-values.yaml", "type: object\nproperties:\n  replicas: {type: integr}\n", 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "openapi/config-values.yaml", 3, "schema", `properties.replicas.type: "integr" is not a schema type: use one of array, boolean`)
	for _, p := range res.Problems {
		if p.Rule == "helm-render" {
			t.Errorf("render attempted with an unloadable schema: %s", p)
		}
	}
}

func TestLintFailingExampleAndEnum(t *testing.T) {
	dir := newModule(t, "bad-example")
	cfg := readFile(t, dir, "openapi/config-values.yaml")
	cfg = strings.Replace(cfg, `enum: ["Debug", "Info", "Error"]`, `enum: ["Debug", "Info", "Error", "trace"]`, 1)
	cfg += "  - replicas: 7\n"
	writeFile(t, dir, "openapi/config-values.yaml", cfg, 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "openapi/config-values.yaml", 0, "x-examples", "x-examples[2]")
	wantProblem(t, res, "openapi/config-values.yaml", 0, "x-examples", "replicas")
	wantProblem(t, res, "openapi/config-values.yaml", 19, "enum", `"trace"`)
	for _, p := range res.Problems {
		if p.Rule == "x-examples" && p.Line == 0 {
			t.Errorf("x-examples problem without a line: %s", p)
		}
	}
}

func TestLintTemplateError(t *testing.T) {
	dir := newModule(t, "bad-template")
	dep := readFile(t, dir, "templates/deployment.yaml")
	dep = strings.Replace(dep, "replicas: {{ .Values.badTemplate.replicas }}", "replicas: {{ .Values.badTemplate.replicas | nosuchfunc }}", 1)
	writeFile(t, dir, "templates/deployment.yaml", dep, 0o644)
	wantProblem(t, lint(t, dir), "templates/deployment.yaml", 0, "helm-render", "nosuchfunc")

	dir = newModule(t, "bad-value")
	cm := readFile(t, dir, "templates/configmap.yaml")
	cm = strings.Replace(cm, "\ndata:\n", "\ndata:\n  size: {{ .Values.badValue.missing.size }}\n", 1)
	writeFile(t, dir, "templates/configmap.yaml", cm, 0o644)
	wantProblem(t, lint(t, dir), "templates/configmap.yaml", 9, "helm-render", "nil pointer")
}

func TestLintExampleThatBreaksRendering(t *testing.T) {
	dir := newModule(t, "example-render")
	cm := readFile(t, dir, "templates/configmap.yaml")
	cm = strings.Replace(cm, "\ndata:\n", "\ndata:\n  {{- if eq .Values.exampleRender.logLevel \"Debug\" }}\n  debug: {{ fail \"debug is broken\" }}\n  {{- end }}\n", 1)
	writeFile(t, dir, "templates/configmap.yaml", cm, 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "templates/deployment.yaml", 0, "helm-render", "with x-examples[0]")
	wantProblem(t, res, "templates/deployment.yaml", 0, "helm-render", "debug is broken")
}

const badDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: bare
  labels: {module: bare-pod}
spec:
  selector: {matchLabels: {app: bare}}
  template:
    metadata: {labels: {app: bare}}
    spec:
      containers:
        - name: main
          image: nginx
          imagePullPolicy: Always
          ports:
            - containerPort: 80
`

func TestLintContainerRulesAndDmtlintExclusions(t *testing.T) {
	dir := newModule(t, "bare-pod")
	writeFile(t, dir, "templates/bare.yaml", badDeployment, 0o644)
	res := lint(t, dir)
	for _, rule := range []string{"controller-security-context", "object-revision-history-limit", "security-context", "resources", "liveness-probe", "readiness-probe", "image-pull-policy", "ports", "seccomp-profile"} {
		wantProblem(t, res, "templates/bare.yaml", 0, rule, "Deployment/bare")
	}
	wantProblem(t, res, "templates/bare.yaml", 5, "object-recommended-labels", `"heritage"`)
	wantProblem(t, res, "templates/bare.yaml", 3, "namespace", "no metadata.namespace")
	wantProblem(t, res, "templates/bare.yaml", 14, "image-pull-policy", "Always")

	writeFile(t, dir, LintConfigFile, `linters-settings:
  container:
    exclude-rules:
      liveness-probe:
        - {kind: Deployment, name: bare, container: main}
      readiness-probe:
        - {kind: Deployment, name: bare, container: other}
      ports:
        - bare
    rules:
      resources: {impact: warn}
  templates:
    rules:
      namespace: {impact: ignored}
`, 0o644)
	res = lint(t, dir)
	if !strings.HasSuffix(res.ConfigFile, LintConfigFile) {
		t.Errorf("config file %q", res.ConfigFile)
	}
	for _, p := range res.Problems {
		switch {
		case p.Rule == "liveness-probe", p.Rule == "ports", p.Rule == "namespace":
			t.Errorf("excluded problem reported: %s", p)
		case p.Rule == "resources" && p.Severity != SeverityWarning:
			t.Errorf("resources should be a warning: %s", p)
		}
	}
	wantProblem(t, res, "templates/bare.yaml", 0, "readiness-probe", "Deployment/bare") // exclusion names another container

	writeFile(t, dir, LintConfigFile, "linters-settings:\n  container:\n    impact: warn\n", 0o644)
	if _, err := (&Lint{}).Run(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, LintConfigFile, "linters-settings:\n  container:\n    impact: loud\n", 0o644)
	if _, err := (&Lint{}).Run(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "linters-settings.container.impact") {
		t.Fatalf("bad impact: got %v", err)
	}
}

func TestLintHooks(t *testing.T) {
	dir := newModule(t, "hooky")
	writeFile(t, dir, "hooks/forgot.sh", "#!/bin/bash\necho hi\n", 0o644)
	writeFile(t, dir, "hooks/unknown-key.sh", "#!/bin/bash\nprintf 'configVersion: v1\\nonStartup: 1\\nbeforeAll: 2\\n'\n", 0o755)
	writeFile(t, dir, "hooks/broken.sh", "#!/bin/bash\necho 'cannot start' >&2\nexit 3\n", 0o755)
	writeFile(t, dir, "hooks/bad-version.sh", "#!/bin/bash\necho '{\"configVersion\":\"v9\",\"onStartup\":1}'\n", 0o755)
	res := lint(t, dir)
	wantProblem(t, res, "hooks/forgot.sh", 1, "hook-executable", "not executable")
	wantProblem(t, res, "hooks/unknown-key.sh", 0, "hook-config", "beforeAll")
	wantProblem(t, res, "hooks/broken.sh", 0, "hook-config", "cannot start")
	wantProblem(t, res, "hooks/bad-version.sh", 0, "hook-config", "v9")
	for _, p := range res.Problems {
		if p.File == "hooks/banner.sh" {
			t.Errorf("generated hook reported: %s", p)
		}
	}
}

func TestLintFilesAndCRDs(t *testing.T) {
	dir := newModule(t, "files")
	writeFile(t, dir, ".helmignore", "# nothing\n*\n", 0o644)
	writeFile(t, dir, "release.yaml", "version: v1\n", 0o644)
	writeFile(t, dir, "docs/README.md", "", 0o644)
	writeFile(t, dir, "crds/things.yaml", `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.io
spec:
  group: example.io
  scope: Cluster
  names: {kind: Thing, plural: things}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object}
---
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: old.example.io}
`, 0o644)
	res := lint(t, dir)
	wantProblem(t, res, ".helmignore", 2, "helmignore", "whole chart")
	wantProblem(t, res, "release.yaml", 0, "legacy-release-file", "version.json")
	wantProblem(t, res, "crds/things.yaml", 0, "deckhouse-crds", "metadata.labels.module")
	wantProblem(t, res, "crds/things.yaml", 0, "deckhouse-crds", "apiextensions.k8s.io/v1beta1")
	// a cluster-scoped custom resource from the module's own CRD must not carry a namespace
	writeFile(t, dir, ".helmignore", "crds\n", 0o644)
	writeFile(t, dir, "templates/thing.yaml", "apiVersion: example.io/v1alpha1\nkind: Thing\nmetadata:\n  name: one\n  namespace: d8-files\n  labels: {module: files, heritage: deckhouse}\n", 0o644)
	wantProblem(t, lint(t, dir), "templates/thing.yaml", 5, "namespace", "cluster-scoped")
}

func TestLintReportsEveryGeneratedModuleClean(t *testing.T) {
	for _, name := range []string{"a", "echo-server", "cloud-provider-x"} {
		res := lint(t, newModule(t, name))
		if len(notNotices(res.Problems)) != 0 {
			t.Errorf("%s: %s", name, problemsText(res.Problems))
		}
	}
	if _, err := (&Lint{}).Run(context.Background(), fmt.Sprintf("%s/none", t.TempDir())); err == nil {
		t.Error("missing directory linted without error")
	}
}

// module/helmignore warns, as dmt does, about root entries Helm would pack
// into the release, and is quiet once .helmignore lists them.
func TestLintHelmignoreCoverage(t *testing.T) {
	dir := newModule(t, "hi-cov")
	writeFile(t, dir, "LICENSE", "license text\n", 0o644)
	writeFile(t, dir, "tools/gen.sh", "#!/bin/sh\n", 0o755)
	res := lint(t, dir)
	for _, want := range []string{`file "LICENSE"`, `directory "tools/"`} {
		found := false
		for _, p := range res.Problems {
			if p.Rule == "helmignore" && p.Severity == SeverityWarning && strings.Contains(p.Message, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no helmignore warning for %s among:\n%s", want, problemsText(res.Problems))
		}
	}
	f, err := os.OpenFile(filepath.Join(dir, ".helmignore"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("LICENSE\ntools/\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range lint(t, dir).Problems {
		if p.Rule == "helmignore" {
			t.Errorf("listed entries still reported: %s", p)
		}
	}
}
