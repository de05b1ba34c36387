package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// Artifacts are the OCI images of one module version, built in memory.
type Artifacts struct {
	// Module is the module name (module.yaml name, else the directory name).
	Module string
	// Version is the registry tag form, "vX.Y.Z".
	Version string
	// Bundle is the module image: module tree at / plus version.json and images_digests.json.
	Bundle v1.Image
	// Release is the release image: version.json, changelog.yaml, module.yaml, crds/, openapi/, docs.
	Release v1.Image
	// Index is the empty image tagged S:<module> that registers the module in its source.
	Index v1.Image
	// ImagesDigests is the content of images_digests.json.
	ImagesDigests map[string]string

	images []resolvedImage
}

// BuildOptions are the inputs of Build besides the module directory.
type BuildOptions struct {
	// Version is the module version, semver with or without a leading v.
	Version string
	// Images are container images of the module to record in images_digests.json;
	// resolving them needs Client.
	Images []ImageRef
	// Client resolves Images; nil is fine when there are none.
	Client *Client
}

var moduleNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// RepositoryName is the module's name as a repository of its source: the
// loader's name, which must also be a registry repository name.
func RepositoryName(m *module.Module) (string, error) {
	n := m.Name
	if len(n) > 64 || !moduleNameRE.MatchString(n) || n == "modules" {
		return "", fmt.Errorf("module name %q (module.yaml name, else the directory %s): want kebab-case, at most 64 characters, not \"modules\"", n, m.Dir)
	}
	return n, nil
}

// Build makes the artifacts of a loaded module (module.Load): its name is
// the loader's, so the registry and the runtime agree on it. The same
// files, version and image digests always give the same image digests.
func Build(ctx context.Context, m *module.Module, opts BuildOptions) (*Artifacts, error) {
	dir := m.Dir
	version, err := ParseVersion(opts.Version)
	if err != nil {
		return nil, err
	}
	module, err := RepositoryName(m)
	if err != nil {
		return nil, err
	}
	var images []resolvedImage
	if len(opts.Images) > 0 {
		if opts.Client == nil {
			return nil, fmt.Errorf("resolving images of module %s: no registry client", module)
		}
		if images, err = opts.Client.resolveImages(ctx, opts.Images); err != nil {
			return nil, fmt.Errorf("module %s: %w", module, err)
		}
	}
	digests := map[string]string{}
	for _, img := range images {
		digests[img.Key] = img.Digest
	}
	versionJSON, err := json.Marshal(map[string]string{"version": version})
	if err != nil {
		return nil, err
	}
	digestsJSON, err := json.MarshalIndent(digests, "", "  ")
	if err != nil {
		return nil, err
	}

	bundleFiles, err := selectModuleFiles(dir, false)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", module, err)
	}
	bundleFiles = append(withoutNames(bundleFiles, "version.json", "images_digests.json"),
		fileEntry{Name: "version.json", Data: versionJSON, Mode: 0o644},
		fileEntry{Name: "images_digests.json", Data: append(digestsJSON, '\n'), Mode: 0o644})
	bundle, err := imageFromFiles(bundleFiles, map[string]string{"io.deckhouse.module": module, "org.opencontainers.image.version": version})
	if err != nil {
		return nil, fmt.Errorf("building module image of %s: %w", module, err)
	}

	releaseFiles, err := selectModuleFiles(dir, true)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", module, err)
	}
	releaseFiles = append(releaseFiles, fileEntry{Name: "version.json", Data: versionJSON, Mode: 0o644})
	changelog, err := findChangelog(dir, version)
	if err != nil {
		return nil, err
	}
	if changelog != nil {
		releaseFiles = append(releaseFiles, *changelog)
	}
	release, err := imageFromFiles(releaseFiles, map[string]string{"io.deckhouse.module": module, "org.opencontainers.image.version": version})
	if err != nil {
		return nil, fmt.Errorf("building release image of %s: %w", module, err)
	}
	return &Artifacts{
		Module:        module,
		Version:       version,
		Bundle:        bundle,
		Release:       release,
		Index:         indexImage(),
		ImagesDigests: digests,
		images:        images,
	}, nil
}

// findChangelog returns the release notes as a changelog.yaml entry: the
// module's changelog.yaml / changelog.yml, else CHANGELOG/<version>.yml|yaml.
func findChangelog(dir, version string) (*fileEntry, error) {
	for _, rel := range []string{"changelog.yaml", "changelog.yml", "CHANGELOG/" + version + ".yml", "CHANGELOG/" + version + ".yaml"} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		data, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("changelog %s: want a YAML map: %w", p, err)
		}
		return &fileEntry{Name: "changelog.yaml", Data: data, Mode: 0o644}, nil
	}
	return nil, nil
}

func withoutNames(in []fileEntry, names ...string) []fileEntry {
	out := in[:0]
	for _, e := range in {
		skip := false
		for _, n := range names {
			skip = skip || e.Name == n
		}
		if !skip {
			out = append(out, e)
		}
	}
	return out
}

// imageFromFiles makes a one-layer OCI image with a fixed config.
func imageFromFiles(files []fileEntry, labels map[string]string) (v1.Image, error) {
	gz, err := buildLayer(files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	base, err = mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Config:       v1.Config{Labels: labels},
		RootFS:       v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "deckhand module build"}})
}

// indexImage is the module's catalogue entry in its source: the empty OCI
// image `crane append --oci-empty-base --new_layer ""` makes.
func indexImage() v1.Image {
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base)
	if err != nil {
		return base
	}
	return img
}
