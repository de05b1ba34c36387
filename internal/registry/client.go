package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option tunes a Client.
type Option func(*clientOptions)

type clientOptions struct {
	keychain  authn.Keychain
	caFile    string
	caData    []byte
	insecure  bool
	backoff   remote.Backoff
	transport http.RoundTripper
	userAgent string
	jobs      int
	// responseTimeout bounds the wait for a response's headers, so a
	// registry that accepts a connection and then hangs is retried.
	responseTimeout time.Duration
	// sleep waits between attempts (replaced in tests).
	sleep sleepFunc
	// signingKey signs what the Publish helpers push.
	signingKey *SigningKey
}

// WithKeychain sets where credentials come from (default authn.DefaultKeychain).
func WithKeychain(k authn.Keychain) Option { return func(o *clientOptions) { o.keychain = k } }

// WithDockerConfig reads credentials from one docker config.json file, or
// the config.json in a directory (its auths, credsStore and credHelpers),
// instead of the default lookup.
func WithDockerConfig(path string) Option {
	return func(o *clientOptions) { o.keychain = dockerConfigKeychain{path: DockerConfigPath(path)} }
}

// WithDockerConfigData reads credentials from the content of a docker
// config.json (as in a ModuleSource's dockerCfg, decoded).
func WithDockerConfigData(data []byte) Option {
	return func(o *clientOptions) { o.keychain = dockerConfigKeychain{data: data, path: "dockerCfg"} }
}

// WithSigningKey signs what PublishDir and PublishModule push.
func WithSigningKey(k *SigningKey) Option { return func(o *clientOptions) { o.signingKey = k } }

// WithCAData trusts the PEM certificates in data in addition to the system pool.
func WithCAData(pem []byte) Option { return func(o *clientOptions) { o.caData = pem } }

// WithCAFile trusts the PEM certificates in path in addition to the system pool.
func WithCAFile(path string) Option { return func(o *clientOptions) { o.caFile = path } }

// WithInsecure allows plain HTTP (and skips TLS verification) for every registry.
// Without it plain HTTP is used only for loopback registries.
func WithInsecure(insecure bool) Option { return func(o *clientOptions) { o.insecure = insecure } }

// WithRetryBackoff sets the backoff for retried requests (429, 5xx, network flakes).
func WithRetryBackoff(b remote.Backoff) Option { return func(o *clientOptions) { o.backoff = b } }

// WithResponseTimeout bounds how long a request waits for the registry to
// start answering (default 1m); a request that times out is retried like a
// connection reset. It applies to the default transport only.
func WithResponseTimeout(d time.Duration) Option {
	return func(o *clientOptions) { o.responseTimeout = d }
}

// WithTransport sets the base HTTP transport (TLS options then do not apply).
func WithTransport(t http.RoundTripper) Option { return func(o *clientOptions) { o.transport = t } }

// WithJobs sets how many blobs move in parallel (default 4).
func WithJobs(n int) Option { return func(o *clientOptions) { o.jobs = n } }

// defaultBackoff tries a request up to 5 times, waiting 1s, 2s, 4s, 8s (±20%)
// in between.
var defaultBackoff = remote.Backoff{Duration: time.Second, Factor: 2, Jitter: 0.2, Steps: 5}

// Client talks to one or more registries. It caches tag lists per repository
// for its lifetime (one command), so scanning a source lists each repo once.
type Client struct {
	opts      clientOptions
	transport http.RoundTripper
	insecure  bool

	mu   sync.Mutex
	tags map[string]*tagEntry
}

// tagEntry is one repository's cached tag list; its lock makes concurrent
// callers wait for one request instead of each sending their own.
type tagEntry struct {
	mu     sync.Mutex
	loaded bool
	tags   []string
}

// NewClient builds a Client; it fails only on a bad CA file.
func NewClient(opts ...Option) (*Client, error) {
	o := clientOptions{keychain: authn.DefaultKeychain, backoff: defaultBackoff, userAgent: "deckhand", jobs: 4,
		responseTimeout: time.Minute, sleep: sleepCtx}
	for _, opt := range opts {
		opt(&o)
	}
	base := o.transport
	if base == nil {
		t := remote.DefaultTransport.(*http.Transport).Clone()
		tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
		pem, where := o.caData, "CA data"
		if o.caFile != "" {
			data, err := os.ReadFile(o.caFile)
			if err != nil {
				return nil, fmt.Errorf("reading CA file %s: %w", o.caFile, err)
			}
			pem, where = append(append([]byte(nil), pem...), data...), "CA file "+o.caFile
		}
		if len(pem) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificates found", where)
			}
			tlsConf.RootCAs = pool
		}
		if o.insecure {
			tlsConf.InsecureSkipVerify = true //nolint:gosec // asked for with --insecure
		}
		t.TLSClientConfig = tlsConf
		t.ResponseHeaderTimeout = o.responseTimeout
		base = t
	}
	return &Client{
		opts:      o,
		transport: plainHTTPGuard{next: retryAfterTransport{next: base, sleep: o.sleep}, allowAll: o.insecure},
		insecure:  o.insecure,
		tags:      map[string]*tagEntry{},
	}, nil
}

// remoteOptions are the go-containerregistry options for one call.
func (c *Client) remoteOptions(ctx context.Context, extra ...remote.Option) []remote.Option {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(c.opts.keychain),
		remote.WithTransport(c.transport),
		remote.WithRetryBackoff(c.opts.backoff),
		remote.WithUserAgent(c.opts.userAgent),
		remote.WithJobs(c.opts.jobs),
	}
	return append(opts, extra...)
}

// nameOptions are the reference-parsing options (insecure allows http fallback).
func (c *Client) nameOptions() []name.Option {
	if c.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// ParseRepository parses "registry/path" with the client's insecurity setting.
func (c *Client) parseRepo(s string) (name.Repository, error) {
	if isHostOnly(s) {
		// name would read it as a Docker Hub repository ("library/<host>").
		return name.Repository{}, fmt.Errorf("%q is only a registry host: SOURCE is REGISTRY/PATH, e.g. registry.example.com/modules", s)
	}
	repo, err := name.NewRepository(s, c.nameOptions()...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("parsing repository %q: %w", s, err)
	}
	return repo, nil
}

// ParseReference parses an image reference with the client's insecurity setting.
func (c *Client) ParseReference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s, c.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("parsing image reference %q: %w", s, err)
	}
	return ref, nil
}

// ListTags returns the tags of repo, from the cache after the first call.
// A repository that does not exist has no tags.
func (c *Client) ListTags(ctx context.Context, repo name.Repository) ([]string, error) {
	key := repo.Name()
	c.mu.Lock()
	e := c.tags[key]
	if e == nil {
		e = &tagEntry{}
		c.tags[key] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.loaded {
		return e.tags, nil
	}
	tags, err := remote.List(repo, c.remoteOptions(ctx)...)
	if err != nil && !isNotFound(err) {
		return nil, fmt.Errorf("listing tags of %s: %w", key, c.explainAuth(repo, err))
	}
	e.tags, e.loaded = tags, true
	return tags, nil
}

// forgetTags drops the cached tag list of repo after a write to it.
func (c *Client) forgetTags(repo name.Repository) {
	c.mu.Lock()
	delete(c.tags, repo.Name())
	c.mu.Unlock()
}

// head returns the descriptor of ref, or nil if it does not exist.
func (c *Client) head(ctx context.Context, ref name.Reference) (*v1.Descriptor, error) {
	desc, err := remote.Head(ref, c.remoteOptions(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("checking %s: %w", ref, c.explainAuth(ref.Context(), err))
	}
	return desc, nil
}

// plainHTTPGuard refuses plain-HTTP requests to non-loopback hosts unless
// insecure was asked for: go-containerregistry would otherwise fall back to
// HTTP for private (RFC 1918) addresses on its own.
type plainHTTPGuard struct {
	next     http.RoundTripper
	allowAll bool
}

func (g plainHTTPGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allowAll && !isLoopbackHost(req.URL.Hostname()) {
		return nil, fmt.Errorf("refusing plain HTTP to %s: pass --insecure to allow it", req.URL.Host)
	}
	return g.next.RoundTrip(req)
}

// isHostOnly reports whether s is a bare registry host (a dot, a port or
// localhost, and no path), as docker tells a host from a Docker Hub name.
func isHostOnly(s string) bool {
	s = strings.TrimSuffix(s, "/")
	if s == "" || strings.Contains(s, "/") {
		return false
	}
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
