package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// LoginResult is what CheckLogin found out.
type LoginResult struct {
	Registry string `json:"registry"`
	Username string `json:"username"`
	// Verified is false when the registry answers /v2/ without asking for
	// credentials, so it could not tell right ones from wrong ones.
	Verified bool `json:"verified"`
}

// RegistryHost normalises a HOST argument ("https://reg.example.com/" ->
// "reg.example.com") and refuses one with a repository path.
func RegistryHost(arg string) (string, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(arg, "https://"), "http://")
	h = strings.TrimSuffix(h, "/")
	if h == "" || strings.Contains(h, "/") {
		return "", fmt.Errorf("%q is not a registry host: HOST is the registry alone, e.g. registry.example.com or localhost:5000 (no repository path)", arg)
	}
	return h, nil
}

// CheckLogin verifies user and password against host by fetching /v2/ with
// them through go-containerregistry's transport (basic auth, or a token from
// the registry's auth service).
func (c *Client) CheckLogin(ctx context.Context, host, user, password string) (*LoginResult, error) {
	reg, err := name.NewRegistry(host, c.nameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("parsing registry host %q: %w", host, err)
	}
	res := &LoginResult{Registry: reg.RegistryStr(), Username: user}
	url := fmt.Sprintf("%s://%s/v2/", reg.Scheme(), reg.RegistryStr())
	// Anonymous first: a registry that lets anyone in cannot check a password.
	status, err := c.getStatus(ctx, &http.Client{Transport: c.transport}, url)
	if err != nil {
		return nil, err
	}
	if status == http.StatusOK {
		return res, nil
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	tr, err := transport.NewWithContext(ctx, reg, auth, c.transport, nil)
	if err != nil {
		return nil, loginError(res, err)
	}
	status, err = c.getStatus(ctx, &http.Client{Transport: tr}, url)
	if err != nil {
		return nil, loginError(res, err)
	}
	if status != http.StatusOK {
		return nil, loginError(res, &transport.Error{StatusCode: status})
	}
	res.Verified = true
	return res, nil
}

func (c *Client) getStatus(ctx context.Context, hc *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("reaching the registry: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func loginError(res *LoginResult, err error) error {
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%s rejected user %q: check the user name and password (or token): %w", res.Registry, res.Username, err)
	}
	return fmt.Errorf("logging in to %s as %q: %w", res.Registry, res.Username, err)
}

// SaveLogin stores user and password for host in the docker config at path
// the way docker login does: in the config's credential helper if it names
// one, else base64 in "auths". Other entries stay; the file is left 0600.
func SaveLogin(path, host, user, password string) error {
	cf, err := loadConfigFile(path)
	if err != nil {
		return err
	}
	key := authKey(host)
	ac := types.AuthConfig{Username: user, Password: password, ServerAddress: key}
	if cf.AuthConfigs == nil {
		cf.AuthConfigs = map[string]types.AuthConfig{}
	}
	if cf.CredentialsStore == "" && cf.CredentialHelpers[key] == "" {
		// The file itself: docker/cli's file store would do the same but
		// also print a warning straight to the process's stderr.
		cf.AuthConfigs[key] = ac
		err = cf.Save()
	} else {
		err = cf.GetCredentialsStore(key).Store(ac)
	}
	if err != nil {
		return fmt.Errorf("saving credentials for %s in %s: %w", host, path, err)
	}
	return restrictMode(path)
}

// Logout removes host's credentials from the docker config at path; it
// reports whether there were any.
func Logout(path, host string) (bool, error) {
	cf, err := loadConfigFile(path)
	if err != nil {
		return false, err
	}
	key := authKey(host)
	store := cf.GetCredentialsStore(key)
	ac, err := store.Get(key)
	if err != nil {
		return false, fmt.Errorf("reading credentials for %s from %s: %w", host, path, err)
	}
	_, inFile := cf.AuthConfigs[key]
	if !inFile && ac.Username == "" && ac.Password == "" && ac.IdentityToken == "" {
		return false, nil
	}
	if err := store.Erase(key); err != nil {
		return false, fmt.Errorf("removing credentials for %s from %s: %w", host, path, err)
	}
	return true, restrictMode(path)
}

// authKey is the "auths" key docker uses for host (Docker Hub has its own).
func authKey(host string) string {
	if host == name.DefaultRegistry || host == "docker.io" {
		return authn.DefaultAuthKey
	}
	return host
}

func loadConfigFile(path string) (*configfile.ConfigFile, error) {
	cf := configfile.New(path)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(strings.TrimSpace(string(data))) == 0 {
		return cf, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading registry config %s: %w", path, err)
	}
	if err := cf.LoadFromReader(strings.NewReader(string(data))); err != nil {
		return nil, fmt.Errorf("parsing registry config %s: %w (fix or move the file; it is docker's config.json format)", path, err)
	}
	return cf, nil
}

// restrictMode keeps the config private: it holds passwords.
func restrictMode(path string) error {
	if err := os.Chmod(path, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restricting %s to mode 0600: %w", path, err)
	}
	return nil
}
