package lint

import (
	"context"
	"fmt"
	"github.com/deckhand-dev/deckhand/internal/module"
	"path/filepath"
	"strings"
	"testing"
)

func TestLintRequirementsRule(t *testing.T) {
	dir := newModule(t, "reqs")
	def := readFile(t, dir, module.DefinitionFile)
	def = strings.Replace(def, `deckhouse: ">= 1.72"`, `deckhouse: ">= 1.60"`, 1)
	def = strings.Replace(def, "requirements:\n", "weight: 100\nrequirements:\n  modules:\n    cert-manager: \">= 0.0.0 !optional\"\n", 1)
	writeFile(t, dir, module.DefinitionFile, def, 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "module.yaml", 2, "requirements", "stage needs DKP >= 1.68")
	wantProblem(t, res, "module.yaml", 0, "requirements", "!optional requirement on cert-manager needs DKP >= 1.73")
	wantProblem(t, res, "module.yaml", 0, "requirements", "weight 100")

	def = strings.Replace(readFile(t, dir, module.DefinitionFile), `">= 1.60"`, `">= 1.74"`, 1)
	writeFile(t, dir, module.DefinitionFile, def, 0o644)
	res = lint(t, dir)
	wantProblem(t, res, "module.yaml", 0, "requirements", "weight is ignored")
	for _, p := range res.Problems {
		if strings.Contains(p.Message, "needs DKP") {
			t.Errorf("requirement satisfied but reported: %s", p)
		}
	}
}

func TestLintConversionsRule(t *testing.T) {
	dir := newModule(t, "conv")
	cfg := strings.Replace(readFile(t, dir, "openapi/config-values.yaml"), "type: object\n", "type: object\nx-config-version: 2\n", 1)
	writeFile(t, dir, "openapi/config-values.yaml", cfg, 0o644)
	writeFile(t, dir, "openapi/conversions/v2.yaml", "version: 2\nconversions:\n  - del(.old)\ndescription:\n  en: Drops old.\n  ru: Удаляет old.\n", 0o644)
	if res := lint(t, dir); len(notNotices(res.Problems)) != 0 {
		t.Fatalf("valid conversion chain reported:\n%s", problemsText(res.Problems))
	}
	writeFile(t, dir, "openapi/conversions/v4.yaml", "version: 3\nconversions:\n  - .a |||\ndescription:\n  en: x\n", 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "openapi/conversions/v3.yaml", 0, "conversions", "v3 is missing")
	wantProblem(t, res, "openapi/conversions/v4.yaml", 1, "conversions", "version must be 4")
	wantProblem(t, res, "openapi/conversions/v4.yaml", 2, "conversions", "does not compile")
	wantProblem(t, res, "openapi/conversions/v4.yaml", 4, "conversions", "description.en and description.ru")
	wantProblem(t, res, "openapi/config-values.yaml", 2, "conversions", "x-config-version is 2 but the last conversion is v4")
}

func TestLintServicePortAndClusterDomain(t *testing.T) {
	dir := newModule(t, "svc")
	writeFile(t, dir, "templates/service.yaml", `apiVersion: v1
kind: Service
metadata:
  name: svc
  namespace: d8-svc
  labels: {module: svc, heritage: deckhouse}
  annotations:
    url: "svc.d8-svc.svc.cluster.local"
spec:
  selector: {app: svc}
  ports:
    - name: http
      port: 80
      targetPort: 8080
    - name: named
      port: 81
      targetPort: http
`, 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "templates/service.yaml", 14, "service-port", `port "http"`)
	wantProblem(t, res, "templates/service.yaml", 8, "cluster-domain", "cluster.local")
	for _, p := range res.Problems {
		if strings.Contains(p.Message, `port "named"`) {
			t.Errorf("named targetPort reported: %s", p)
		}
	}
}

func TestLintConfigGlobalImpactAndDisable(t *testing.T) {
	dir := newModule(t, "cfg")
	writeFile(t, dir, "release.yaml", "x: y\n", 0o644)
	writeFile(t, dir, "templates/bare.yaml", badDeployment, 0o644)
	writeFile(t, dir, LintConfigFile, `global:
  linters-settings:
    container:
      impact: warn
      rules:
        resources: {impact: error}
linters-settings:
  module:
    legacy-release-file: {disable: true}
  templates:
    exclude-rules:
      namespace:
        - {kind: Deployment, name: bare}
`, 0o644)
	res := lint(t, dir)
	sawResources := false
	for _, p := range res.Problems {
		switch {
		case p.Rule == "legacy-release-file" || p.Rule == "namespace":
			t.Errorf("disabled or excluded rule reported: %s", p)
		case p.Rule == "resources":
			sawResources = true
			if p.Severity != SeverityError {
				t.Errorf("global rule impact error not applied: %s", p)
			}
		case p.Linter == LinterContainer && p.Severity != SeverityWarning:
			t.Errorf("global linter impact warn not applied: %s", p)
		}
	}
	if !sawResources {
		t.Errorf("resources problem missing:\n%s", problemsText(res.Problems))
	}
}

func TestLintEnumExclusionByKeyPath(t *testing.T) {
	dir := newModule(t, "enums")
	writeFile(t, dir, "crds/modes.yaml", `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: modes.example.deckhouse.io
  labels: {module: enums}
spec:
  group: example.deckhouse.io
  scope: Cluster
  names: {kind: Mode, plural: modes}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            mode: {type: string, enum: [hard, soft]}
            other: {type: string, enum: [fast]}
`, 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "crds/modes.yaml", 18, "enum", `"hard"`)
	wantProblem(t, res, "crds/modes.yaml", 19, "enum", `"fast"`)
	writeFile(t, dir, LintConfigFile, `linters-settings:
  openapi:
    exclude-rules:
      enum:
        - spec.versions[*].schema.openAPIV3Schema.properties.mode
`, 0o644)
	res = lint(t, dir)
	for _, p := range res.Problems {
		if strings.Contains(p.Message, `"hard"`) || strings.Contains(p.Message, `"soft"`) {
			t.Errorf("excluded enum reported: %s", p)
		}
	}
	wantProblem(t, res, "crds/modes.yaml", 19, "enum", `"fast"`)
}

// internal.* values are set by hooks at runtime, so lint and render fill the
// required ones in; module values replace the placeholders.
func TestRequiredInternalValuesAreStubbedForLintAndRender(t *testing.T) {
	dir := newModule(t, "certs")
	vals := readFile(t, dir, "openapi/values.yaml")
	vals = strings.Replace(vals, "    default: {}\n", "    default: {}\n    x-required-for-helm: [cert]\n", 1)
	vals += "      cert:\n        type: string\n        description: Filled by a hook.\n"
	writeFile(t, dir, "openapi/values.yaml", vals, 0o644)
	cm := readFile(t, dir, "templates/configmap.yaml")
	cm = strings.Replace(cm, "\ndata:\n", "\ndata:\n  cert: {{ .Values.certs.internal.cert | b64enc }}\n", 1)
	writeFile(t, dir, "templates/configmap.yaml", cm, 0o644)

	if res := lint(t, dir); len(notNotices(res.Problems)) != 0 {
		t.Fatalf("lint should stub x-required-for-helm values:\n%s", problemsText(res.Problems))
	}
	m, err := module.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := (&module.Render{}).Run(ctx, m)
	if err != nil || !strings.Contains(out.Rendered.String(), "cert: c3R1Yg==") {
		t.Fatalf("render without the hook value (want the placeholder): %v", err)
	}
	mv := filepath.Join(t.TempDir(), "module-values.yaml")
	writeFile(t, filepath.Dir(mv), filepath.Base(mv), "internal:\n  cert: real\n", 0o644)
	out, err = (&module.Render{ModuleValuesFiles: []string{mv}}).Run(ctx, m)
	if err != nil || !strings.Contains(out.Rendered.String(), "cert: cmVhbA==") {
		t.Fatalf("render with module values: %v", err)
	}
	writeFile(t, filepath.Dir(mv), filepath.Base(mv), "internal:\n  unknown: x\n", 0o644)
	if _, err := (&module.Render{ModuleValuesFiles: []string{mv}}).Run(ctx, m); err == nil || !strings.Contains(err.Error(), "certs.internal") {
		t.Fatalf("module values outside the schema: got %v", err)
	}
}

func TestLintStaticValuesSectionMustBeAnObject(t *testing.T) {
	dir := newModule(t, "static")
	writeFile(t, dir, "values.yaml", "static: [1, 2]\n", 0o644)
	wantProblem(t, lint(t, dir), "values.yaml", 0, "helm-render", `section "static" must be an object`)
}

// An empty required list is valid for addon-operator and dmt; a schema that
// fails the meta-schema is reported, and the other checks still run.
func TestLintSchemaErrorsDoNotStopOtherChecks(t *testing.T) {
	dir := newModule(t, "schemas")
	cfg := strings.Replace(readFile(t, dir, "openapi/config-values.yaml"), "type: object\n", "type: object\nrequired: []\n", 1)
	writeFile(t, dir, "openapi/config-values.yaml", cfg, 0o644)
	if res := lint(t, dir); len(notNotices(res.Problems)) != 0 {
		t.Fatalf("required: [] reported:\n%s", problemsText(res.Problems))
	}

	vals := readFile(t, dir, "openapi/values.yaml") + "    minProperties: -1\n"
	writeFile(t, dir, "openapi/values.yaml", vals, 0o644)
	// Independent problems elsewhere in the module must still be found.
	cfg = strings.Replace(cfg, `enum: ["Debug", "Info", "Error"]`, `enum: ["debug", "Info", "Error"]`, 1)
	cfg = strings.Replace(cfg, "logLevel: Debug", "logLevel: debug", 1)
	cfg = strings.Replace(cfg, `default: "Info"`, `default: "debug"`, 1)
	writeFile(t, dir, "openapi/config-values.yaml", cfg, 0o644)
	writeFile(t, dir, "templates/broken.yaml", "{{ .Values.nope.missing }}\n", 0o644)
	res := lint(t, dir)
	wantProblem(t, res, "openapi/values.yaml", 0, "schema", "minProperties")
	wantProblem(t, res, "openapi/config-values.yaml", 0, "enum", `"debug"`)
	wantProblem(t, res, "templates/broken.yaml", 1, "helm-render", "nil pointer")
}

// Cluster-scoped DKP kinds need no namespace; the module's own CRDs decide
// for their kinds, even over a DKP kind of the same name.
func TestLintNamespaceKnowsClusterScopedKinds(t *testing.T) {
	dir := newModule(t, "scopes")
	var objs strings.Builder
	for _, k := range []string{"deckhouse.io/v1alpha1 NodeGroupConfiguration", "deckhouse.io/v1alpha1 ModuleConfig", "deckhouse.io/v1 NodeGroup",
		"deckhouse.io/v1 ClusterAuthorizationRule", "deckhouse.io/v1 IngressNginxController", "deckhouse.io/v1alpha1 ClusterLogDestination",
		"storage.deckhouse.io/v1alpha1 NFSStorageClass", "example.io/v1 Widget"} {
		api, kind, _ := strings.Cut(k, " ")
		fmt.Fprintf(&objs, "---\napiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  labels: {module: scopes, heritage: deckhouse}\n", api, kind, strings.ToLower(kind))
	}
	objs.WriteString("---\napiVersion: example.io/v1\nkind: NodeGroup\nmetadata:\n  name: mine\n  labels: {module: scopes, heritage: deckhouse}\n")
	writeFile(t, dir, "templates/cluster.yaml", objs.String(), 0o644)
	writeFile(t, dir, "crds/example.yaml", `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.io
  labels: {module: scopes}
spec:
  group: example.io
  scope: Cluster
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: nodegroups.example.io
  labels: {module: scopes}
spec:
  group: example.io
  scope: Namespaced
  names: {kind: NodeGroup, plural: nodegroups}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`, 0o644)
	writeFile(t, dir, ".helmignore", "crds\n", 0o644)
	res := lint(t, dir)
	for _, p := range res.Problems {
		if p.Rule == "namespace" && (p.Object == nil || p.Object.Name != "mine") {
			t.Errorf("cluster-scoped object reported: %s", p)
		}
	}
	wantProblem(t, res, "templates/cluster.yaml", 0, "namespace", "NodeGroup/mine: namespaced object")

	// Neither dmt nor DKP rejects these, so they are warnings: a namespace on
	// a cluster-scoped object (the API server drops it) and a missing one on
	// a kind of unknown scope. A ConfigMap without a namespace stays an error.
	writeFile(t, dir, "templates/more.yaml", `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
  namespace: d8-scopes
  labels: {module: scopes, heritage: deckhouse}
---
apiVersion: other.example.com/v1
kind: Gadget
metadata:
  name: gadget
  labels: {module: scopes, heritage: deckhouse}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bare
  labels: {module: scopes, heritage: deckhouse}
`, 0o644)
	sev := map[string]Severity{}
	for _, p := range lint(t, dir).Problems {
		if p.Rule == "namespace" && p.File == "templates/more.yaml" {
			sev[p.Object.Name] = p.Severity
		}
	}
	if sev["reader"] != SeverityWarning || sev["gadget"] != SeverityWarning || sev["bare"] != SeverityError {
		t.Errorf("severities: %v", sev)
	}
}
