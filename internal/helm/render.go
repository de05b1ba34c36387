package helm

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
)

// Manifest is one rendered template file.
type Manifest struct {
	// Template is the file path inside the chart ("templates/deployment.yaml",
	// or "charts/<sub>/templates/x.yaml" for subcharts).
	Template string
	// Content is the rendered YAML (possibly several documents).
	Content string
}

// Rendered is the output of a render.
type Rendered struct {
	// Manifests are the rendered template files, ordered by template path.
	Manifests []Manifest
	// Install are the objects one per document, in Helm's install order (by
	// kind: Namespace before ConfigMap before Deployment ...), without Helm hooks.
	Install []Manifest
	// Hooks are the Helm hook objects (helm.sh/hook annotation), in Helm's order.
	Hooks []Manifest
	// Notes is the rendered NOTES.txt of the top chart, if any.
	Notes string
}

// String prints the objects the way `helm template` does: in install order,
// each with a "# Source:" comment, then the Helm hooks.
func (r *Rendered) String() string {
	var b strings.Builder
	for _, m := range append(append([]Manifest{}, r.Install...), r.Hooks...) {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Template, strings.TrimSpace(m.Content))
	}
	return b.String()
}

// Renderer renders charts offline. The zero value is not usable; use NewRenderer.
type Renderer struct {
	caps *common.Capabilities
	// eng is Helm's template engine; the zero value renders offline
	// (lookup returns nothing), Client's renders with lookup on the cluster.
	eng engine.Engine
}

// RendererOption configures a Renderer.
type RendererOption func(*Renderer) error

// WithKubeVersion sets .Capabilities.KubeVersion.
func WithKubeVersion(v string) RendererOption {
	return func(r *Renderer) error {
		kv, err := common.ParseKubeVersion(v)
		if err != nil {
			return fmt.Errorf("parsing Kubernetes version %q: %w", v, err)
		}
		r.caps.KubeVersion = *kv
		return nil
	}
}

// WithExtraAPIVersions adds API versions ("group/version" or
// "group/version/Kind") to .Capabilities.APIVersions, for templates that gate
// objects on CRDs a cluster has (helm_lib_api_version_exists).
func WithExtraAPIVersions(versions ...string) RendererOption {
	return func(r *Renderer) error {
		r.caps.APIVersions = append(r.caps.APIVersions, versions...)
		return nil
	}
}

// NewRenderer returns a Renderer whose capabilities are Helm's defaults (all
// API versions known to client-go) with the given Kubernetes version ("" keeps
// Helm's default version).
func NewRenderer(kubeVersion string, opts ...RendererOption) (*Renderer, error) {
	r := &Renderer{caps: common.DefaultCapabilities.Copy()}
	if kubeVersion != "" {
		opts = append([]RendererOption{WithKubeVersion(kubeVersion)}, opts...)
	}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Request says what to render.
type Request struct {
	Chart       *chart.Chart
	ReleaseName string
	Namespace   string
	Values      map[string]any
	IsUpgrade   bool
}

// Render renders all templates of the chart (and enabled subcharts) with the
// values, as an install would, without a cluster. Partials (_*.tpl) and empty
// output are dropped.
func (r *Renderer) Render(ctx context.Context, req Request) (*Rendered, error) {
	c := req.Chart
	if c == nil || c.Metadata == nil {
		return nil, fmt.Errorf("rendering: no chart loaded")
	}
	if err := chartutil.ProcessDependencies(c, req.Values); err != nil {
		return nil, fmt.Errorf("chart %s: processing dependencies: %w", c.Name(), err)
	}
	opts := common.ReleaseOptions{
		Name:      req.ReleaseName,
		Namespace: req.Namespace,
		Revision:  1,
		IsInstall: !req.IsUpgrade,
		IsUpgrade: req.IsUpgrade,
	}
	if req.IsUpgrade {
		opts.Revision = 2
	}
	vals, err := util.ToRenderValues(c, req.Values, opts, r.caps)
	if err != nil {
		return nil, fmt.Errorf("chart %s: preparing values: %w", c.Name(), err)
	}
	files, err := r.eng.RenderWithContext(ctx, c, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", c.Name(), err)
	}
	out := &Rendered{}
	prefix := c.Name() + "/"
	for name, content := range files {
		rel := strings.TrimPrefix(name, prefix)
		base := path.Base(rel)
		if strings.HasPrefix(base, "_") {
			continue
		}
		if base == "NOTES.txt" {
			if rel == "templates/NOTES.txt" {
				out.Notes = content
			}
			continue
		}
		if strings.TrimSpace(content) == "" {
			continue
		}
		out.Manifests = append(out.Manifests, Manifest{Template: rel, Content: content})
	}
	sort.Slice(out.Manifests, func(i, j int) bool { return out.Manifests[i].Template < out.Manifests[j].Template })
	byName := make(map[string]string, len(out.Manifests))
	for _, m := range out.Manifests {
		byName[m.Template] = m.Content
	}
	hooks, install, err := releaseutil.SortManifests(byName, r.caps.APIVersions, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("chart %s: sorting rendered objects: %w", c.Name(), err)
	}
	for _, m := range install {
		out.Install = append(out.Install, Manifest{Template: m.Name, Content: m.Content})
	}
	for _, h := range hooks {
		out.Hooks = append(out.Hooks, Manifest{Template: h.Path, Content: h.Manifest})
	}
	return out, nil
}

// KubeVersion is the Kubernetes version templates see in .Capabilities.KubeVersion.
func (r *Renderer) KubeVersion() string { return r.caps.KubeVersion.Version }
