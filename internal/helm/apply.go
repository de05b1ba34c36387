package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ChecksumLabel is the release label holding the checksum of the chart,
// values and rendered objects a release was made from (addon-operator's name).
const ChecksumLabel = "moduleChecksum"

// legacyChecksumKey is where older addon-operator versions kept it: a key
// of the release's values.
const legacyChecksumKey = "_addonOperatorModuleChecksum"

// ApplyOptions say what to install.
type ApplyOptions struct {
	// Release is the release name (the module name).
	Release string
	// ChartDir is the module directory; its crds/ are applied before the chart.
	ChartDir string
	// Values is the whole values tree ({"global": ..., "<key>": ...}).
	Values map[string]any
	// HistoryMax bounds the kept revisions (0: 10).
	HistoryMax int
	// Timeout bounds the operation (0: 20 minutes).
	Timeout time.Duration
}

// ApplyResult says what Apply did.
type ApplyResult struct {
	// Revision is the release's revision after Apply.
	Revision int
	// Checksum is the checksum of the chart, values and rendered objects.
	Checksum string
	// Upgraded is true when Apply installed or upgraded.
	Upgraded bool
	// Reason says why it upgraded, or why not.
	Reason string
}

// Apply installs or upgrades the release only when needed: no release yet,
// the last one not deployed, a different checksum of chart, values and
// rendered objects, or a rendered object (or CRD) missing from the cluster
// (it is put back). A release left pending by a crash is marked failed
// first, so the upgrade can go ahead. The chart's crds/ are applied before
// it. A failed upgrade leaves the previous revision's objects in place and
// returns Helm's error, which names the template or object.
func (c *Client) Apply(ctx context.Context, o ApplyOptions) (*ApplyResult, error) {
	if o.HistoryMax <= 0 {
		o.HistoryMax = 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Minute
	}
	crds, err := readCRDs(o.ChartDir)
	if err != nil {
		return nil, err
	}
	sum, objs, err := c.desired(ctx, o, crds)
	if err != nil {
		return nil, err
	}
	cfg, err := c.configuration()
	if err != nil {
		return nil, err
	}
	last, err := lastRelease(cfg, o.Release)
	if err != nil {
		return nil, err
	}
	res := &ApplyResult{Checksum: sum}
	switch {
	case last == nil:
		res.Reason = "no release yet"
	case last.Info.Status.IsPending():
		res.Reason = "last release is " + string(last.Info.Status) + " (interrupted)"
		// A crash mid-operation leaves the record pending and Helm refuses
		// to touch it; the objects are whatever got applied. Mark it failed
		// and upgrade over it.
		last.SetStatus(common.StatusFailed, "deckhand: the operation was interrupted; upgrading over it")
		if err := cfg.Releases.Update(last); err != nil {
			return nil, fmt.Errorf("helm: repairing pending release %s: %w", o.Release, err)
		}
	case last.Info.Status != common.StatusDeployed:
		res.Reason = "last release is " + string(last.Info.Status)
	case storedChecksum(last) != sum:
		res.Reason = "chart, values or rendered objects changed"
	default:
		missing, err := c.missingObjects(ctx, objs)
		if err != nil {
			return nil, err
		}
		if len(missing) == 0 {
			res.Revision, res.Reason = last.Version, "unchanged"
			return res, nil
		}
		res.Reason = "objects missing: " + strings.Join(missing, ", ")
	}

	if len(crds) > 0 {
		if err := c.applyCRDs(ctx, crds); err != nil {
			return nil, err
		}
		// New kinds may change what templates render (.Capabilities).
		if sum, _, err = c.desired(ctx, o, crds); err != nil {
			return nil, err
		}
		res.Checksum = sum
	}
	caps, err := c.capabilities()
	if err != nil {
		return nil, err
	}
	cfg.Capabilities = caps
	// Helm's actions change the chart they are given (dependencies); load
	// a fresh one.
	ch, err := LoadModuleChart(o.ChartDir, o.Release)
	if err != nil {
		return nil, err
	}
	var rel *releasev1.Release
	if last == nil || (last.Version == 1 && !hasDeployed(cfg, o.Release)) {
		if last != nil {
			// A first install that failed: replace it.
			if _, err := cfg.Releases.Delete(o.Release, last.Version); err != nil {
				return nil, fmt.Errorf("helm: removing failed first install of %s: %w", o.Release, err)
			}
		}
		rel, err = c.install(ctx, cfg, ch, o, sum)
	} else {
		rel, err = c.upgrade(ctx, cfg, ch, o, sum, last)
	}
	if err != nil {
		return nil, err
	}
	res.Revision, res.Upgraded = rel.Version, true
	return res, nil
}

func (c *Client) install(ctx context.Context, cfg *action.Configuration, ch *chart.Chart, o ApplyOptions, sum string) (*releasev1.Release, error) {
	in := action.NewInstall(cfg)
	in.ReleaseName = o.Release
	in.Namespace = c.getter.namespace
	in.Timeout = o.Timeout
	in.WaitStrategy = kube.HookOnlyStrategy
	in.Labels = map[string]string{ChecksumLabel: sum}
	in.SkipCRDs = true // applied by Apply, and updated too
	// The API server validates the objects itself; Helm's own check fetches
	// the cluster's whole OpenAPI document on every operation.
	in.DisableOpenAPIValidation = true
	// New releases are applied server-side; the module owns what its chart
	// renders, so fields another manager set are taken over, and objects
	// left by a lost release record (or made by hand) are adopted instead
	// of failing the install.
	in.ServerSideApply = true
	in.ForceConflicts = true
	in.TakeOwnership = true
	r, err := in.RunWithContext(ctx, ch, o.Values)
	if err != nil {
		return nil, fmt.Errorf("helm install %s: %w", o.Release, err)
	}
	return asRelease(r)
}

func (c *Client) upgrade(ctx context.Context, cfg *action.Configuration, ch *chart.Chart, o ApplyOptions, sum string, last *releasev1.Release) (*releasev1.Release, error) {
	up := action.NewUpgrade(cfg)
	up.Namespace = c.getter.namespace
	up.MaxHistory = o.HistoryMax
	up.Timeout = o.Timeout
	up.WaitStrategy = kube.HookOnlyStrategy
	up.Labels = map[string]string{ChecksumLabel: sum}
	up.SkipCRDs = true
	up.ResetValues = true
	up.DisableOpenAPIValidation = true
	// "auto" keeps the apply method of the last release: one first applied
	// client-side (Helm 3, addon-operator: no apply_method in the record)
	// stays client-side, a three-way merge that never conflicts with the
	// "helm" or "Go-http-client" managers of its objects. Server-side
	// releases force conflicts (Helm refuses the flag with client-side).
	up.ServerSideApply = "auto"
	up.ForceConflicts = last.ApplyMethod == string(releasev1.ApplyMethodServerSideApply)
	// A failed upgrade is recorded failed and leaves the previous objects;
	// no rollback, so the record tells what happened.
	up.RollbackOnFailure = false
	up.CleanupOnFail = false
	r, err := up.RunWithContext(ctx, o.Release, ch, o.Values)
	if err != nil {
		return nil, fmt.Errorf("helm upgrade %s: %w", o.Release, err)
	}
	return asRelease(r)
}

// desired renders the chart the way the upgrade would (lookup and
// .Capabilities from the cluster) and returns the checksum of chart, CRDs,
// values and rendered objects, and the objects Apply keeps present.
func (c *Client) desired(ctx context.Context, o ApplyOptions, crds []crdFile) (string, []*unstructured.Unstructured, error) {
	ch, err := LoadModuleChart(o.ChartDir, o.Release)
	if err != nil {
		return "", nil, err
	}
	caps, err := c.capabilities()
	if err != nil {
		return "", nil, err
	}
	r := &Renderer{caps: caps, eng: engine.New(c.getter.cfg)}
	// Always rendered as an upgrade, so the checksum does not change
	// between the install and the first upgrade check.
	out, err := r.Render(ctx, Request{Chart: ch, ReleaseName: o.Release, Namespace: c.getter.namespace, Values: o.Values, IsUpgrade: true})
	if err != nil {
		return "", nil, err
	}
	var objs []*unstructured.Unstructured
	for _, f := range crds {
		objs = append(objs, f.objects...)
	}
	for _, m := range out.Install {
		got, err := objects(m.Content)
		if err != nil {
			return "", nil, fmt.Errorf("rendered %s: %w", m.Template, err)
		}
		objs = append(objs, got...)
	}
	sum, err := checksum(ch, crds, o.Values, out)
	if err != nil {
		return "", nil, err
	}
	return sum, objs, nil
}

func storedChecksum(r *releasev1.Release) string {
	if s := r.Labels[ChecksumLabel]; s != "" {
		return s
	}
	if s, ok := r.Config[legacyChecksumKey].(string); ok {
		return s
	}
	return ""
}

// checksum covers every chart file (templates, values.yaml, subcharts),
// the CRDs, the values and the rendered objects (which also follow from
// lookups and the cluster's API versions).
func checksum(ch *chart.Chart, crds []crdFile, values map[string]any, out *Rendered) (string, error) {
	h := sha256.New()
	var walk func(c *chart.Chart)
	walk = func(c *chart.Chart) {
		files := make([]string, 0, len(c.Raw))
		byName := map[string][]byte{}
		for _, f := range c.Raw {
			files = append(files, f.Name)
			byName[f.Name] = f.Data
		}
		sort.Strings(files)
		fmt.Fprintf(h, "chart %s\n", c.Name())
		for _, n := range files {
			fmt.Fprintf(h, "%s %d\n", n, len(byName[n]))
			h.Write(byName[n])
		}
		deps := c.Dependencies()
		sort.Slice(deps, func(i, j int) bool { return deps[i].Name() < deps[j].Name() })
		for _, d := range deps {
			walk(d)
		}
	}
	walk(ch)
	for _, f := range crds {
		fmt.Fprintf(h, "crd %s %d\n", f.path, len(f.data))
		h.Write(f.data)
	}
	raw, err := json.Marshal(values)
	if err != nil {
		return "", fmt.Errorf("encoding values: %w", err)
	}
	fmt.Fprintf(h, "values %d\n", len(raw))
	h.Write(raw)
	for _, m := range out.Manifests {
		fmt.Fprintf(h, "rendered %s %d\n", m.Template, len(m.Content))
		_, _ = io.WriteString(h, m.Content)
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}
