package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ChecksumLabel is the release label holding the checksum of the chart and
// values a release was made from (addon-operator's name).
const ChecksumLabel = "moduleChecksum"

// legacyChecksumKey is where older addon-operator versions kept it: a key
// of the release's values.
const legacyChecksumKey = "_addonOperatorModuleChecksum"

// Client installs, upgrades and uninstalls module releases through the Helm
// v4 SDK, in one namespace, with one discovery cache for all of them.
type Client struct {
	getter *restGetter
	dyn    dynamic.Interface
	kube   kubernetes.Interface
	log    *slog.Logger
}

// Option configures a Client.
type Option func(*Client)

// WithLogger sends Helm's logs to l (default: discarded; errors are returned).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// NewClient reaches the cluster for releases stored in namespace.
func NewClient(cfg *rest.Config, namespace string, opts ...Option) (*Client, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c := &Client{getter: &restGetter{cfg: cfg, namespace: namespace}, dyn: dyn, kube: kc, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Namespace is where releases are stored.
func (c *Client) Namespace() string { return c.getter.namespace }

// configuration is a Helm action configuration for one operation; they
// share the Client's discovery cache.
func (c *Client) configuration() (*action.Configuration, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(c.log.Handler()))
	if err := cfg.Init(c.getter, c.getter.namespace, "secret"); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	// Helm's Secret driver, writing through chunkedSecrets (chunked.go).
	d := driver.NewSecrets(newChunkedSecrets(c.kube.CoreV1().Secrets(c.getter.namespace)))
	d.SetLogger(c.log.Handler())
	cfg.Releases = storage.Init(d)
	return cfg, nil
}

// ApplyOptions say what to install.
type ApplyOptions struct {
	// Release is the release name (the module name).
	Release string
	// ChartDir is the module directory.
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
	// Checksum is the checksum of the chart and values.
	Checksum string
	// Upgraded is true when Apply installed or upgraded.
	Upgraded bool
	// Reason says why it upgraded, or why not.
	Reason string
}

// Apply installs or upgrades the release only when needed: no release yet,
// the last one not deployed, a different checksum of chart and values, or
// an object of the release missing from the cluster (it is put back). A
// release left pending by a crash is marked failed first, so the upgrade
// can go ahead. A failed upgrade leaves the previous revision's objects in
// place and returns Helm's error.
func (c *Client) Apply(ctx context.Context, o ApplyOptions) (*ApplyResult, error) {
	if o.HistoryMax <= 0 {
		o.HistoryMax = 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 20 * time.Minute
	}
	ch, err := LoadModuleChart(o.ChartDir, o.Release)
	if err != nil {
		return nil, err
	}
	sum, err := checksum(ch, o.Values)
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
	if last == nil {
		res.Reason = "no release yet"
		rel, err := c.install(ctx, cfg, ch, o, sum)
		if err != nil {
			return nil, err
		}
		res.Revision, res.Upgraded = rel.Version, true
		return res, nil
	}
	if last.Info.Status.IsPending() {
		// A crash mid-operation leaves the record pending and Helm refuses
		// to touch it; the objects are whatever got applied. Mark it failed
		// and upgrade over it.
		last.SetStatus(common.StatusFailed, "deckhand: the operation was interrupted; upgrading over it")
		if err := cfg.Releases.Update(last); err != nil {
			return nil, fmt.Errorf("helm: repairing pending release %s: %w", o.Release, err)
		}
	}
	switch {
	case last.Info.Status != common.StatusDeployed:
		res.Reason = "last release is " + string(last.Info.Status)
	case storedChecksum(last) != sum:
		res.Reason = "chart or values changed"
	default:
		missing, err := c.missingObjects(ctx, last.Manifest)
		if err != nil {
			return nil, err
		}
		if len(missing) == 0 {
			res.Revision, res.Reason = last.Version, "unchanged"
			return res, nil
		}
		res.Reason = "objects missing: " + strings.Join(missing, ", ")
	}
	if last.Version == 1 && last.Info.Status != common.StatusDeployed && last.Info.Status != common.StatusSuperseded && !hasDeployed(cfg, o.Release) {
		// A first install that failed: Helm cannot upgrade a release that
		// never deployed; replace it.
		if _, err := cfg.Releases.Delete(o.Release, last.Version); err != nil {
			return nil, fmt.Errorf("helm: removing failed first install of %s: %w", o.Release, err)
		}
		rel, err := c.install(ctx, cfg, ch, o, sum)
		if err != nil {
			return nil, err
		}
		res.Revision, res.Upgraded = rel.Version, true
		return res, nil
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = c.getter.namespace
	up.MaxHistory = o.HistoryMax
	up.Timeout = o.Timeout
	up.WaitStrategy = kube.HookOnlyStrategy
	up.Labels = map[string]string{ChecksumLabel: sum}
	// "auto": a release first applied client-side (Helm 3, addon-operator)
	// stays client-side, so no field manager fights over its objects.
	up.ServerSideApply = "auto"
	up.ForceConflicts = false
	up.SkipCRDs = true
	up.ResetValues = true
	// The API server validates the objects itself; Helm's own check fetches
	// the cluster's whole OpenAPI document on every operation.
	up.DisableOpenAPIValidation = true
	r, err := up.RunWithContext(ctx, o.Release, ch, o.Values)
	if err != nil {
		return nil, fmt.Errorf("helm upgrade %s: %w", o.Release, err)
	}
	rel, err := asRelease(r)
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
	in.SkipCRDs = true
	in.DisableOpenAPIValidation = true
	// Objects left by a lost release record (or made by hand) are adopted
	// instead of failing the install.
	in.TakeOwnership = true
	r, err := in.RunWithContext(ctx, ch, o.Values)
	if err != nil {
		return nil, fmt.Errorf("helm install %s: %w", o.Release, err)
	}
	return asRelease(r)
}

// Uninstall removes the release and its objects; existed is false when
// there was no release.
func (c *Client) Uninstall(ctx context.Context, release string) (bool, error) {
	cfg, err := c.configuration()
	if err != nil {
		return false, err
	}
	un := action.NewUninstall(cfg)
	un.WaitStrategy = kube.HookOnlyStrategy
	un.Timeout = 5 * time.Minute
	if _, err := un.Run(release); err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) || strings.Contains(err.Error(), "not found") {
			return false, nil
		}
		return true, fmt.Errorf("helm uninstall %s: %w", release, err)
	}
	return true, nil
}

// Status returns the last revision and status of a release ("" when none).
func (c *Client) Status(ctx context.Context, release string) (int, string, error) {
	cfg, err := c.configuration()
	if err != nil {
		return 0, "", err
	}
	last, err := lastRelease(cfg, release)
	if err != nil || last == nil {
		return 0, "", err
	}
	return last.Version, string(last.Info.Status), nil
}

// Releases lists the names of the releases in the namespace.
func (c *Client) Releases(ctx context.Context) ([]string, error) {
	cfg, err := c.configuration()
	if err != nil {
		return nil, err
	}
	all, err := cfg.Releases.ListReleases()
	if err != nil {
		return nil, fmt.Errorf("helm: listing releases: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range all {
		rel, err := asRelease(r)
		if err != nil || seen[rel.Name] || rel.Info.Status == common.StatusUninstalled {
			continue
		}
		seen[rel.Name] = true
		out = append(out, rel.Name)
	}
	sort.Strings(out)
	return out, nil
}

func lastRelease(cfg *action.Configuration, name string) (*releasev1.Release, error) {
	r, err := cfg.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("helm: reading release %s: %w", name, err)
	}
	return asRelease(r)
}

func hasDeployed(cfg *action.Configuration, name string) bool {
	hist, err := cfg.Releases.History(name)
	if err != nil {
		return false
	}
	for _, r := range hist {
		if rel, err := asRelease(r); err == nil && (rel.Info.Status == common.StatusDeployed || rel.Info.Status == common.StatusSuperseded) {
			return true
		}
	}
	return false
}

func asRelease(r any) (*releasev1.Release, error) {
	rel, ok := r.(*releasev1.Release)
	if !ok || rel == nil {
		return nil, fmt.Errorf("helm: unexpected release type %T", r)
	}
	return rel, nil
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

// checksum covers every chart file (templates, values.yaml, subcharts) and
// the values: the rendered objects follow from them.
func checksum(ch *chart.Chart, values map[string]any) (string, error) {
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
	raw, err := json.Marshal(values)
	if err != nil {
		return "", fmt.Errorf("encoding values: %w", err)
	}
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}
