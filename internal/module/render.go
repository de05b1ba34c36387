package module

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ettle/strcase"

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
	// hooks to set them. Lint renders this way.
	StubRequiredForHelm bool
	// Registry is injected as <moduleKey>.registry as DKP does for modules from
	// a ModuleSource; nil means StubRegistry.
	Registry *values.Registry
	// Global values; nil means values.StubGlobal for the Kubernetes version.
	Global map[string]any
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
	renderer, err := helm.NewRenderer(kubeVersion)
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
		EnabledModules: []string{m.Name},
		Registry:       registry,
		ConfigSource:   layers.sourceFunc(),
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

func (r *Render) moduleValues() (map[string]any, error) {
	out, err := mergeYAMLFiles(r.ModuleValues, r.ModuleValuesFiles, "module values file")
	if err != nil {
		return nil, err
	}
	return values.Normalize(out)
}

// stubImageDigests fills global.modulesImages.digests.<moduleKey>.<imageCamel>
// for every images/<name> directory, the way DKP fills it from the module's
// images_digests.json, so lib-helm's image helpers render offline. The digests
// are stable fakes derived from the names.
func stubImageDigests(global map[string]any, m *Module) error {
	entries, err := os.ReadDir(filepath.Join(m.Dir, "images"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading images: %w", err)
	}
	digests := map[string]any{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sum := sha256.Sum256([]byte(m.Name + "/" + e.Name()))
		digests[strcase.ToCamel(e.Name())] = "sha256:" + hex.EncodeToString(sum[:])
	}
	images, _ := global["modulesImages"].(map[string]any)
	if images == nil {
		images = map[string]any{}
		global["modulesImages"] = images
	}
	all, _ := images["digests"].(map[string]any)
	if all == nil {
		all = map[string]any{}
		images["digests"] = all
	}
	all[m.ValuesKey] = digests
	return nil
}

// StubRegistry is the module registry an offline render uses: the stub
// global registry base with an empty docker config.
func StubRegistry() *values.Registry {
	cfg := base64.StdEncoding.EncodeToString([]byte(`{"auths":{"registry.example.com":{}}}`))
	return &values.Registry{Base: "registry.example.com/modules", DockerCfg: cfg, Scheme: "https"}
}
