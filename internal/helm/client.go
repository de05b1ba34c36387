package helm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chartcommon "helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// FieldManager is the field manager deckhand's Helm operations write
// objects as (Helm would take the binary's name, which differs between the
// operator, its tests and a renamed binary, and would fight itself).
const FieldManager = "deckhand"

// capabilitiesTTL bounds how stale the cluster's API versions seen by
// templates (.Capabilities) may be.
const capabilitiesTTL = time.Minute

var setFieldManager sync.Once

// Client installs, upgrades and uninstalls module releases through the Helm
// v4 SDK, in one namespace, with one discovery cache for all of them.
type Client struct {
	getter *restGetter
	dyn    dynamic.Interface
	kube   kubernetes.Interface
	log    *slog.Logger

	capsMu sync.Mutex
	caps   *chartcommon.Capabilities
	capsAt time.Time
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
	// Helm keeps the field manager in a package variable; deckhand is the
	// only Helm user in its process.
	setFieldManager.Do(func() {
		if kube.ManagedFieldsManager == "" {
			kube.ManagedFieldsManager = FieldManager
		}
	})
	c := &Client{getter: &restGetter{cfg: cfg, namespace: namespace}, dyn: dyn, kube: kc, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Namespace is where releases are stored.
func (c *Client) Namespace() string { return c.getter.namespace }

// configuration is a Helm action configuration for one operation; they
// share the Client's discovery cache and release storage.
func (c *Client) configuration() (*action.Configuration, error) {
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(c.log.Handler()))
	if err := cfg.Init(c.getter, c.getter.namespace, "secret"); err != nil {
		return nil, fmt.Errorf("helm: %w", err)
	}
	cfg.Releases = storage.Init(c.releaseDriver())
	return cfg, nil
}

// releaseDriver is Helm's Secret driver writing through chunkedSecrets
// (chunked.go): Helm's own records when they fit in a Secret, chunked ones
// when not.
func (c *Client) releaseDriver() driver.Driver {
	d := driver.NewSecrets(newChunkedSecrets(c.kube.CoreV1().Secrets(c.getter.namespace)))
	d.SetLogger(c.log.Handler())
	return d
}

// capabilities are what templates see as .Capabilities: the cluster's
// version and API versions, rediscovered at most every capabilitiesTTL (Helm
// alone rediscovers the whole API on every operation).
func (c *Client) capabilities() (*chartcommon.Capabilities, error) {
	c.capsMu.Lock()
	defer c.capsMu.Unlock()
	if c.caps != nil && time.Since(c.capsAt) < capabilitiesTTL {
		return c.caps, nil
	}
	c.getter.resetMapper()
	dc, err := c.getter.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("helm: reading the Kubernetes version: %w", err)
	}
	apis, err := action.GetVersionSet(dc)
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, fmt.Errorf("helm: discovering API versions: %w", err)
	}
	c.caps = &chartcommon.Capabilities{
		APIVersions: apis,
		KubeVersion: chartcommon.KubeVersion{Version: v.GitVersion, Major: v.Major, Minor: v.Minor},
		HelmVersion: chartcommon.DefaultCapabilities.HelmVersion,
	}
	c.capsAt = time.Now()
	return c.caps, nil
}

// forgetDiscovery drops cached API discovery (CRDs were just applied).
func (c *Client) forgetDiscovery() {
	c.capsMu.Lock()
	c.caps = nil
	c.capsMu.Unlock()
	c.getter.resetMapper()
}

// Uninstall removes the release and its objects; existed is false when
// there was no release.
func (c *Client) Uninstall(ctx context.Context, release string) (existed bool, err error) {
	cfg, err := c.configuration()
	if err != nil {
		return false, err
	}
	if _, err := cfg.Releases.History(release); errors.Is(err, driver.ErrReleaseNotFound) {
		return false, nil
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

// Status returns the last revision and status of a release (0, "" when none).
func (c *Client) Status(ctx context.Context, release string) (revision int, status string, err error) {
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

// Releases lists the names of the releases in the namespace (to purge
// those whose module is gone).
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
