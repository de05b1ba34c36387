package registry

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// AuthError is a 401 or 403 from a registry, told apart by whether the client
// had credentials for it: none found (log in), or sent and rejected (log in
// again, or ask for access).
type AuthError struct {
	// Registry is the host the request went to (as in the image reference).
	Registry string
	// Status is the HTTP status: 401 or 403.
	Status int
	// HasCredentials says the keychain had credentials for Registry.
	HasCredentials bool
	// Config names where credentials were looked up (a config.json path, or
	// "the ModuleSource's dockerCfg").
	Config string
	// InCluster is set when the credentials come from a ModuleSource, where
	// `deckhand registry login` is not the fix.
	InCluster bool
	// ConfigMissing: Config is a file that does not exist.
	ConfigMissing bool
	Err           error
}

func (e *AuthError) Error() string {
	fix := fmt.Sprintf("run `deckhand registry login %s`, or point --registry-config (or DOCKER_CONFIG) at a docker config that has credentials for it", e.Registry)
	if e.InCluster {
		fix = "set credentials for it in the ModuleSource's spec.registry.dockerCfg"
	}
	switch {
	case !e.HasCredentials:
		missing := ""
		if e.ConfigMissing {
			missing = " (the file does not exist)"
		}
		return fmt.Sprintf("%s requires authentication (%d %s) and %s%s has no credentials for it: %s: %v",
			e.Registry, e.Status, http.StatusText(e.Status), e.Config, missing, fix, e.Err)
	case e.Status == http.StatusForbidden:
		return fmt.Sprintf("%s denied access (403 Forbidden) with the credentials from %s: the account lacks permission for this repository; ask for access or log in as another user (%s): %v",
			e.Registry, e.Config, fix, e.Err)
	default:
		return fmt.Sprintf("%s rejected the credentials from %s (401 Unauthorized): they are wrong or expired; %s: %v",
			e.Registry, e.Config, fix, e.Err)
	}
}

func (e *AuthError) Unwrap() error { return e.Err }

// explainAuth turns a 401/403 answer about repo into an *AuthError; other
// errors pass through unchanged.
func (c *Client) explainAuth(repo name.Repository, err error) error {
	var te *transport.Error
	if err == nil || !errors.As(err, &te) || (te.StatusCode != http.StatusUnauthorized && te.StatusCode != http.StatusForbidden) {
		return err
	}
	if ae := (*AuthError)(nil); errors.As(err, &ae) {
		return err
	}
	auth, rerr := c.opts.keychain.Resolve(repo)
	ae := &AuthError{
		Registry:       repo.RegistryStr(),
		Status:         te.StatusCode,
		HasCredentials: rerr == nil && auth != authn.Anonymous,
		Config:         c.configName(),
		Err:            err,
	}
	if k, ok := c.opts.keychain.(dockerConfigKeychain); ok && k.data != nil {
		ae.InCluster, ae.Config = true, "the ModuleSource's dockerCfg"
	} else if _, err := os.Stat(ae.Config); errors.Is(err, os.ErrNotExist) {
		ae.ConfigMissing = true
	}
	return ae
}

// configName says where the client looks for credentials, for messages.
func (c *Client) configName() string {
	switch k := c.opts.keychain.(type) {
	case dockerConfigKeychain:
		return k.path
	default:
		if c.opts.keychain == authn.DefaultKeychain {
			return DockerConfigPath("")
		}
		return "the configured keychain"
	}
}

// DockerConfigPath is the docker config.json deckhand reads and `registry
// login` writes: flag (a file, or a directory holding config.json) when set,
// else $DOCKER_CONFIG/config.json, else ~/.docker/config.json, as docker does.
func DockerConfigPath(flag string) string {
	if flag != "" {
		if fi, err := os.Stat(flag); err == nil && fi.IsDir() {
			return filepath.Join(flag, "config.json")
		}
		return flag
	}
	if dir := os.Getenv("DOCKER_CONFIG"); dir != "" {
		return filepath.Join(dir, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(".docker", "config.json")
	}
	return filepath.Join(home, ".docker", "config.json")
}
