package release

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// Store is the downloaded modules on disk (DKP's layout, with the live
// version named by a symlink rather than a restart):
//
//	<root>/<module>/<version>/       one unpacked version (vX.Y.Z, or dev-<digest> for an override)
//	<root>/<module>/<version>.json   what else running it needs (the registry values)
//	<root>/modules/<module>          symlink to ../<module>/<version>: the live version
//
// Switching the live version is one rename, so a crash leaves either the
// old or the new link, never none.
type Store struct {
	Root string
}

// Live is one module's live version on disk.
type Live struct {
	Module   string
	Version  string
	Dir      string
	Registry *values.Registry
}

// sidecar is <version>.json.
type sidecar struct {
	Registry *values.Registry `json:"registry,omitempty"`
	Digest   string           `json:"digest,omitempty"`
}

// VersionDir is where a version of a module is unpacked.
func (s Store) VersionDir(module, version string) string {
	return filepath.Join(s.Root, module, version)
}

func (s Store) linkPath(module string) string {
	return filepath.Join(s.Root, "modules", module)
}

// WriteSidecar records what running a version needs besides its files.
func (s Store) WriteSidecar(module, version, digest string, reg *values.Registry) error {
	data, err := json.Marshal(sidecar{Registry: reg, Digest: digest})
	if err != nil {
		return err
	}
	p := s.VersionDir(module, version) + ".json"
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func (s Store) readSidecar(module, version string) sidecar {
	var sc sidecar
	if data, err := os.ReadFile(s.VersionDir(module, version) + ".json"); err == nil {
		_ = json.Unmarshal(data, &sc)
	}
	return sc
}

// Digest is the image digest a version was unpacked from ("" if unknown).
func (s Store) Digest(module, version string) string {
	return s.readSidecar(module, version).Digest
}

// Has reports whether a version is unpacked and its sidecar written.
func (s Store) Has(module, version string) bool {
	fi, err := os.Stat(s.VersionDir(module, version))
	if err != nil || !fi.IsDir() {
		return false
	}
	_, err = os.Stat(s.VersionDir(module, version) + ".json")
	return err == nil
}

// SetLive makes version the live version of module.
func (s Store) SetLive(module, version string) error {
	if err := os.MkdirAll(filepath.Join(s.Root, "modules"), 0o755); err != nil {
		return err
	}
	link := s.linkPath(module)
	tmp := link + ".new"
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Join("..", module, version), tmp); err != nil {
		return fmt.Errorf("switching %s to %s: %w", module, version, err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("switching %s to %s: %w", module, version, err)
	}
	return nil
}

// LiveVersion is the live version of module ("" when none).
func (s Store) LiveVersion(module string) string {
	target, err := os.Readlink(s.linkPath(module))
	if err != nil {
		return ""
	}
	return filepath.Base(target)
}

// ClearLive forgets the live version of module (its files stay).
func (s Store) ClearLive(module string) error {
	err := os.Remove(s.linkPath(module))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// LiveAll lists every module's live version; links to missing versions are
// left out (the operator downloads them again).
func (s Store) LiveAll() ([]Live, error) {
	entries, err := os.ReadDir(filepath.Join(s.Root, "modules"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Live
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".new") {
			continue
		}
		version := s.LiveVersion(name)
		if version == "" || !s.Has(name, version) {
			continue
		}
		out = append(out, Live{Module: name, Version: version, Dir: s.VersionDir(name, version), Registry: s.readSidecar(name, version).Registry})
	}
	return out, nil
}

// Prune removes the versions of module other than the live one and keep.
func (s Store) Prune(module string, keep ...string) error {
	live := s.LiveVersion(module)
	entries, err := os.ReadDir(filepath.Join(s.Root, module))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	keepSet := map[string]bool{live: true}
	for _, k := range keep {
		keepSet[k] = true
	}
	var errs []error
	for _, e := range entries {
		v := strings.TrimSuffix(e.Name(), ".json")
		if keepSet[v] {
			continue
		}
		errs = append(errs, os.RemoveAll(filepath.Join(s.Root, module, e.Name())))
	}
	return errors.Join(errs...)
}
