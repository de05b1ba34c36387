package module

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// libImage stands in for lib-helm's image helpers: like them it indexes
// global.modulesImages.digests and fails when an image has no digest.
const libImage = `{{- define "helm_lib_module_image" -}}
{{- $ctx := index . 0 -}}{{- $mod := $ctx.Chart.Name | camelcase | untitle -}}
{{- if ge (len .) 3 }}{{ $mod = index . 2 | camelcase | untitle }}{{ end -}}
{{- $d := index $ctx.Values.global.modulesImages.digests $mod (index . 1) -}}
{{- if not $d }}{{ fail (printf "Image %s.%s has no digest" $mod (index . 1)) }}{{ end -}}
{{ $ctx.Values.global.modulesImages.registry.base }}@{{ $d }}
{{- end -}}
{{- define "helm_lib_module_common_image" -}}
{{- $ctx := index . 0 -}}
{{- $d := index $ctx.Values.global.modulesImages.digests "common" (index . 1) -}}
{{- if not $d }}{{ fail (printf "Image common.%s has no digest" (index . 1)) }}{{ end -}}
{{ $ctx.Values.global.modulesImages.registry.base }}@{{ $d }}
{{- end -}}
`

func TestRenderStubsEveryImageTheTemplatesAskFor(t *testing.T) {
	dir := newModule(t, "imgs")
	writeFile(t, dir, "templates/_lib.tpl", libImage, 0o644)
	for _, d := range []string{"images/pod-reloader", "images/webhook_server"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, dir, "templates/images.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: images, namespace: d8-imgs}
data:
  own: {{ include "helm_lib_module_image" (list . "podReloader") }}
  raw: {{ include "helm_lib_module_image" (list . "webhook_server") }}
  templateOnly: {{ include "helm_lib_module_image" (list $ "notADirectory") }}
  other: {{ include "helm_lib_module_image" (list . "controller" "csi-nfs") }}
  proxy: {{ include "helm_lib_module_common_image" (list . "kubeRbacProxy") }}
  csi: {{ include "helm_lib_module_common_image" (list . "csiExternalProvisioner") }}
  direct: {{ .Values.global.modulesImages.digests.common.iptablesWrapper }}
`, 0o644)
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&Render{}).Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Rendered.String()
	for _, want := range []string{
		"own: registry.example.com/modules@" + values.FakeDigest("imgs", "podReloader"),
		"raw: registry.example.com/modules@" + values.FakeDigest("imgs", "webhook_server"),
		"templateOnly: registry.example.com/modules@" + values.FakeDigest("imgs", "notADirectory"),
		"other: registry.example.com/modules@" + values.FakeDigest("csiNfs", "controller"),
		"proxy: registry.example.com/modules@" + values.FakeDigest("common", "kubeRbacProxy"),
		"csi: registry.example.com/modules@" + values.FakeDigest("common", "csiExternalProvisioner"),
		"direct: " + values.FakeDigest("common", "iptablesWrapper"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered output lacks %q:\n%s", want, out)
		}
	}
	// Digests are stable from one render to the next.
	again, err := (&Render{}).Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if again.Rendered.String() != out {
		t.Error("two renders of the same module differ")
	}
}

// Objects gated on other DKP modules render: the stub enables a realistic
// set of modules besides the module itself.
func TestRenderEnablesARealisticSetOfModules(t *testing.T) {
	dir := newModule(t, "gated")
	writeFile(t, dir, "templates/gated.yaml", `{{- range list "vertical-pod-autoscaler" "operator-prometheus" "prometheus" "cert-manager" "gated" }}
{{- if has . $.Values.global.enabledModules }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: {{ . }}, namespace: d8-gated}
{{- end }}
{{- end }}
{{- if has "no-such-module" .Values.global.enabledModules }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: never, namespace: d8-gated}
{{- end }}
`, 0o644)
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&Render{}).Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	out := res.Rendered.String()
	for _, name := range []string{"vertical-pod-autoscaler", "operator-prometheus", "prometheus", "cert-manager", "gated"} {
		if !strings.Contains(out, "name: "+name+",") {
			t.Errorf("object gated on %s not rendered:\n%s", name, out)
		}
	}
	if strings.Contains(out, "name: never") {
		t.Error("object gated on a module outside the set was rendered")
	}
	res, err = (&Render{EnabledModules: []string{}}).Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if out := res.Rendered.String(); strings.Contains(out, "name: prometheus,") || !strings.Contains(out, "name: gated,") {
		t.Errorf("EnabledModules: [] must enable the module alone:\n%s", out)
	}
}

// Required internal.* values are set by hooks at runtime: an offline render
// fills them in by itself; other x-required-for-helm values still need
// StubRequiredForHelm (--stub-required).
func TestRenderStubsRequiredInternalValues(t *testing.T) {
	dir := newModule(t, "hooked")
	writeFile(t, dir, "openapi/values.yaml", `x-extend:
  schema: config-values.yaml
type: object
properties:
  internal:
    type: object
    default: {}
    required: [cert]
    x-required-for-helm: [token]
    properties:
      cert:
        type: object
        required: [crt]
        properties:
          crt: {type: string}
      token: {type: string}
`, 0o644)
	writeFile(t, dir, "templates/internal.yaml", `apiVersion: v1
kind: Secret
metadata: {name: internal, namespace: d8-hooked}
stringData:
  crt: {{ .Values.hooked.internal.cert.crt | quote }}
  token: {{ .Values.hooked.internal.token | quote }}
`, 0o644)
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := (&Render{}).Run(context.Background(), m)
	if err != nil {
		t.Fatalf("render without --stub-required: %v", err)
	}
	if out := res.Rendered.String(); !strings.Contains(out, `crt: "stub"`) || !strings.Contains(out, `token: "stub"`) {
		t.Fatalf("internal values not stubbed:\n%s", out)
	}
	res, err = (&Render{ModuleValues: map[string]any{"internal": map[string]any{"token": "real"}}}).Run(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if out := res.Rendered.String(); !strings.Contains(out, `token: "real"`) {
		t.Fatalf("module values did not replace the placeholder:\n%s", out)
	}

	vals := strings.Replace(readFile(t, dir, "openapi/values.yaml"), "type: object\nproperties:\n  internal:",
		"type: object\nx-required-for-helm: [external]\nproperties:\n  external: {type: string}\n  internal:", 1)
	writeFile(t, dir, "openapi/values.yaml", vals, 0o644)
	if m, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Render{}).Run(context.Background(), m); err == nil || !strings.Contains(err.Error(), "external") {
		t.Fatalf("missing non-internal x-required-for-helm value: got %v", err)
	}
	if _, err := (&Render{StubRequiredForHelm: true}).Run(context.Background(), m); err != nil {
		t.Fatalf("with StubRequiredForHelm: %v", err)
	}
}
