package registry

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/docker/cli/cli/config"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// dockerConfigKeychain resolves credentials from one docker config.json file,
// the same way authn.DefaultKeychain does for the default location.
// data, when set, is the file's content and path only names it in errors.
type dockerConfigKeychain struct {
	path string
	data []byte
}

func (k dockerConfigKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	data := k.data
	if data == nil {
		var err error
		if data, err = os.ReadFile(k.path); errors.Is(err, os.ErrNotExist) {
			// no file, no credentials: a 401 then says which file to create
			return authn.Anonymous, nil
		} else if err != nil {
			return nil, fmt.Errorf("reading registry config %s: %w", k.path, err)
		}
	}
	cf, err := config.LoadFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing registry config %s: %w", k.path, err)
	}
	for _, key := range []string{target.String(), target.RegistryStr()} {
		if key == "index.docker.io" {
			key = authn.DefaultAuthKey
		}
		ac, err := cf.GetAuthConfig(key)
		if err != nil {
			return nil, fmt.Errorf("registry config %s: credentials for %s: %w", k.path, key, err)
		}
		if ac.Username == "" && ac.Password == "" && ac.Auth == "" && ac.IdentityToken == "" && ac.RegistryToken == "" {
			continue
		}
		return authn.FromConfig(authn.AuthConfig{
			Username:      ac.Username,
			Password:      ac.Password,
			Auth:          ac.Auth,
			IdentityToken: ac.IdentityToken,
			RegistryToken: ac.RegistryToken,
		}), nil
	}
	return authn.Anonymous, nil
}

// isNotFound reports whether err is a registry "does not exist" answer.
func isNotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
			return true
		}
	}
	return false
}
