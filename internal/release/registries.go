package release

import (
	"crypto/md5" //nolint:gosec // DKP's checksum of the registry spec, not a security check
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/deckhand-dev/deckhand/api/v1alpha1"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// DefaultClientTTL is how long a registry client (and its tag cache) is
// shared before a fresh one lists tags again.
const DefaultClientTTL = 30 * time.Second

// Registries builds registry clients from ModuleSource specs. Sources with
// the same spec share one client for a while, and with it one tag cache per
// repository whose lock makes concurrent callers wait for a single request:
// many sources on one registry do not stampede it.
type Registries struct {
	// TTL bounds how long a client's tag cache is used (DefaultClientTTL).
	TTL time.Duration
	// Options are added to every client (a transport in tests).
	Options []registry.Option

	mu      sync.Mutex
	clients map[string]pooledClient
}

type pooledClient struct {
	c       *registry.Client
	created time.Time
}

// SpecChecksum is DKP's registry-spec-checksum: md5 of spec.registry.
func SpecChecksum(spec v1alpha1.ModuleSourceRegistry) string {
	data, _ := json.Marshal(spec)
	sum := md5.Sum(data) //nolint:gosec // see import
	return hex.EncodeToString(sum[:])
}

// For returns the client of a source's registry spec.
func (r *Registries) For(spec v1alpha1.ModuleSourceRegistry) (*registry.Client, error) {
	key := SpecChecksum(spec)
	ttl := r.TTL
	if ttl <= 0 {
		ttl = DefaultClientTTL
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.clients[key]; ok && time.Since(p.created) < ttl {
		return p.c, nil
	}
	opts := append([]registry.Option(nil), r.Options...)
	if spec.DockerCfg != "" {
		data, err := base64.StdEncoding.DecodeString(spec.DockerCfg)
		if err != nil {
			return nil, fmt.Errorf("spec.registry.dockerCfg: not base64: %w", err)
		}
		opts = append(opts, registry.WithDockerConfigData(data))
	} else {
		opts = append(opts, registry.WithDockerConfigData([]byte(`{"auths":{}}`)))
	}
	if spec.CA != "" {
		opts = append(opts, registry.WithCAData([]byte(spec.CA)))
	}
	if strings.EqualFold(spec.Scheme, "HTTP") {
		opts = append(opts, registry.WithInsecure(true))
	}
	c, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("spec.registry: %w", err)
	}
	if r.clients == nil {
		r.clients = map[string]pooledClient{}
	}
	for k, p := range r.clients { // drop the stale ones
		if time.Since(p.created) >= ttl {
			delete(r.clients, k)
		}
	}
	r.clients[key] = pooledClient{c: c, created: time.Now()}
	return c, nil
}

// RegistryValues are the values DKP injects into a module from a source
// as <moduleKey>.registry: its repository, pull secret, scheme and CA.
func RegistryValues(spec v1alpha1.ModuleSourceRegistry, module string) *values.Registry {
	repo := strings.TrimSuffix(spec.Repo, "/")
	cfg := spec.DockerCfg
	if cfg == "" {
		host, _, _ := strings.Cut(repo, "/")
		cfg = base64.StdEncoding.EncodeToString([]byte(`{"auths":{"` + host + `":{}}}`))
	}
	scheme := strings.ToLower(spec.Scheme)
	if scheme == "" {
		scheme = "https"
	}
	return &values.Registry{Base: repo + "/" + module, DockerCfg: cfg, Scheme: scheme, CA: spec.CA}
}
