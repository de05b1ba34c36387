package module

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/deckhand-dev/deckhand/internal/buildinfo"
	"github.com/deckhand-dev/deckhand/internal/helm"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// Render renders a module's chart offline with values built exactly as the
// runtime builds them (values.Build) and handed to Helm as
// {"global": ..., "<moduleKey>": ...}.
type Render struct {
	// Settings are user settings given directly; SettingsFiles and Set go on top.
	Settings map[string]any
	// SettingsFiles are YAML files with user settings (what ModuleConfig
	// spec.settings holds), merged in order.
	SettingsFiles []string
	// Set, SetString, SetJSON, SetFile and SetLiteral are settings overrides
	// with Helm's --set, --set-string, --set-json, --set-file and
	// --set-literal syntax, applied after the files in Helm's order: JSON,
	// then Set, String, File, Literal.
	Set        []string
	SetString  []string
	SetJSON    []string
	SetFile    []string
	SetLiteral []string
	// ModuleValues are set on top of the built module values, the way hooks set
	// values at runtime (typically internal.*); validated against the values schema.
	ModuleValues map[string]any
	// ModuleValuesFiles are YAML files merged into ModuleValues, in order.
	ModuleValuesFiles []string
	// StubRequiredForHelm fills values the helm schema requires (x-required-for-helm)
	// but nobody set with placeholders (values.StubRequired): offline there are no
	// hooks to set them. Lint renders this way. Required values under internal
	// (set by hooks at runtime) are always filled, with or without it;
	// ModuleValues replace the placeholders.
	StubRequiredForHelm bool
	// Registry is injected as <moduleKey>.registry as DKP does for modules from
	// a ModuleSource; nil means StubRegistry.
	Registry *values.Registry
	// Global values; nil means values.StubGlobal for the Kubernetes version.
	Global map[string]any
	// EnabledModules becomes global.enabledModules (the module itself is
	// always added); nil means StubEnabledModules.
	EnabledModules []string
	// KubeVersion for .Capabilities; "" means the version of deckhand's client-go.
	KubeVersion string
}

// RenderResult is what a render produced.
type RenderResult struct {
	Values   *values.Result
	Rendered *helm.Rendered
}

// Run loads nothing itself: it renders the already loaded module m.
func (r *Render) Run(ctx context.Context, m *Module) (*RenderResult, error) {
	settings, layers, err := r.settings()
	if err != nil {
		return nil, err
	}
	kubeVersion := r.KubeVersion
	if kubeVersion == "" {
		kubeVersion = buildinfo.Get().KubernetesVersion
	}
	renderer, err := helm.NewRenderer(kubeVersion, helm.WithExtraAPIVersions(stubAPIVersions()...))
	if err != nil {
		return nil, err
	}
	global := r.Global
	if global == nil {
		global = values.StubGlobal(renderer.KubeVersion())
		if err := stubImageDigests(global, m); err != nil {
			return nil, err
		}
	}
	global, err = values.Normalize(global) // values.Build shares it as given
	if err != nil {
		return nil, fmt.Errorf("global values: %w", err)
	}
	registry := r.Registry
	if registry == nil {
		registry = StubRegistry()
	}
	res, err := values.Build(values.Input{
		ModuleName:     m.Name,
		Schemas:        m.Schemas,
		Static:         m.StaticValues,
		Config:         settings,
		Global:         global,
		EnabledModules: enabledModules(r.EnabledModules, m.Name),
		Registry:       registry,
		ConfigSource:   layers.sourceFunc(),
		StubInternal:   true,
	})
	if err != nil {
		return nil, err
	}
	overlay, err := r.moduleValues()
	if err != nil {
		return nil, err
	}
	if len(overlay) > 0 {
		res.Module = values.Merge(res.Module, overlay)
		if err := values.Validate(m.Schemas.WithRegistry().Values, res.ModuleKey, res.Module); err != nil {
			return nil, fmt.Errorf("module values after --module-values (schema %s): %w", m.Schemas.ValuesFile, err)
		}
	}
	if r.StubRequiredForHelm {
		res.Module = values.StubRequired(m.Schemas.Helm, res.Module)
	}
	helmValues, err := res.ForHelm(m.Schemas)
	if err != nil {
		return nil, err
	}
	chart, err := helm.LoadChart(m.Dir, m.Name)
	if err != nil {
		return nil, err
	}
	out, err := renderer.Render(ctx, helm.Request{Chart: chart, ReleaseName: m.Name, Namespace: m.Namespace(), Values: helmValues})
	if err != nil {
		return nil, err
	}
	return &RenderResult{Values: res, Rendered: out}, nil
}

// StubEnabledModules are the modules an offline render treats as enabled
// besides the module itself, so that objects a module gates on them
// (`has "<name>" .Values.global.enabledModules`) are rendered and linted:
// the modules of DKP's Default bundle that modules commonly gate on
// (monitoring, autoscaling, certificates, ingress, authn/authz, policies,
// with the "-crd" names lib-helm still checks), plus the ones dmt enables for
// its renders (cert-manager, vertical-pod-autoscaler, operator-postgres and
// the managed-* services).
func StubEnabledModules() []string {
	return []string{
		"admission-policy-engine", "admission-policy-engine-crd",
		"cert-manager",
		"control-plane-manager",
		"deckhouse",
		"ingress-nginx",
		"log-shipper",
		"managed-cassandra", "managed-clickhouse", "managed-hive-metastore", "managed-kafka",
		"managed-memcached", "managed-opensearch", "managed-postgres", "managed-starrocks",
		"managed-trino", "managed-valkey",
		"monitoring-kubernetes",
		"node-manager",
		"operator-postgres",
		"operator-prometheus", "operator-prometheus-crd",
		"priority-class",
		"prometheus", "prometheus-crd",
		"user-authn", "user-authz",
		"vertical-pod-autoscaler", "vertical-pod-autoscaler-crd",
	}
}

// enabledModules is list (StubEnabledModules when nil) with self, once each.
func enabledModules(list []string, self string) []string {
	if list == nil {
		list = StubEnabledModules()
	}
	out := []string{self}
	for _, n := range list {
		if n != self {
			out = append(out, n)
		}
	}
	return out
}

func (r *Render) moduleValues() (map[string]any, error) {
	out, err := mergeYAMLFiles(r.ModuleValues, r.ModuleValuesFiles, "module values file")
	if err != nil {
		return nil, err
	}
	return values.Normalize(out)
}

// StubRegistry is the module registry an offline render uses: the stub
// global registry base with an empty docker config.
func StubRegistry() *values.Registry {
	cfg := base64.StdEncoding.EncodeToString([]byte(`{"auths":{"registry.example.com":{}}}`))
	return &values.Registry{Base: "registry.example.com/modules", DockerCfg: cfg, Scheme: "https"}
}

// stubAPIVersions are the API versions an offline render adds to Helm's
// defaults: CRDs every DKP cluster serves (the vertical-pod-autoscaler,
// cert-manager and Gateway API), so templates that gate an object on one of
// them (helm_lib_api_version_exists) render it, as dmt renders it, and the
// linter sees it.
func stubAPIVersions() []string {
	return []string{
		"autoscaling.k8s.io/v1/VerticalPodAutoscaler",
		"cert-manager.io/v1",
		"gateway.networking.k8s.io/v1/Gateway",
		"gateway.networking.k8s.io/v1/HTTPRoute",
		"gateway.networking.k8s.io/v1/ListenerSet",
	}
}
