package registry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"sigs.k8s.io/yaml"
)

// ImageInfo describes one image of a version.
type ImageInfo struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// Size is manifest + config + compressed layers, in bytes.
	Size   int64 `json:"size"`
	Layers int   `json:"layers"`
}

// VersionInfo is what `registry inspect` shows about one module version.
type VersionInfo struct {
	Source  string `json:"source"`
	Module  string `json:"module"`
	Version string `json:"version"`
	// Channels are the channel tags whose version.json names this version.
	Channels      []string          `json:"channels,omitempty"`
	Bundle        ImageInfo         `json:"bundle"`
	Release       ImageInfo         `json:"release"`
	ImagesDigests map[string]string `json:"imagesDigests"`
	Changelog     map[string]any    `json:"changelog,omitempty"`
	// VersionJSON is the bundle's version.json document, as is (a JSON
	// string holding the file when the file is not JSON; null when absent).
	VersionJSON json.RawMessage `json:"versionJSON"`
}

// resolveVersion turns a version or channel name into a version tag.
func (c *Client) resolveVersion(ctx context.Context, src name.Repository, module, versionOrChannel string) (string, error) {
	if IsChannel(versionOrChannel) {
		ref, err := tagRef(src, module+"/release", versionOrChannel, c.nameOptions())
		if err != nil {
			return "", err
		}
		v, _, err := c.releaseVersion(ctx, ref)
		if err != nil {
			return "", fmt.Errorf("module %s channel %s: %w", module, versionOrChannel, err)
		}
		return v, nil
	}
	return ParseVersion(versionOrChannel)
}

// moduleVersion is one version of a module in a source, resolved from a
// version or channel name.
type moduleVersion struct {
	src     name.Repository
	version string
	// bundle is SOURCE/MODULE:VERSION, the module image.
	bundle name.Tag
}

// resolveModuleVersion parses source, resolves versionOrChannel to a version
// and names its module image: the common start of Inspect and Pull.
func (c *Client) resolveModuleVersion(ctx context.Context, source, module, versionOrChannel string) (*moduleVersion, error) {
	src, err := c.parseRepo(source)
	if err != nil {
		return nil, err
	}
	version, err := c.resolveVersion(ctx, src, module, versionOrChannel)
	if err != nil {
		return nil, err
	}
	bundle, err := tagRef(src, module, version, c.nameOptions())
	if err != nil {
		return nil, err
	}
	return &moduleVersion{src: src, version: version, bundle: bundle}, nil
}

// Inspect reads one version (or the version a channel points at) of module.
func (c *Client) Inspect(ctx context.Context, source, module, versionOrChannel string) (*VersionInfo, error) {
	mv, err := c.resolveModuleVersion(ctx, source, module, versionOrChannel)
	if err != nil {
		return nil, err
	}
	src, version, bundleRef := mv.src, mv.version, mv.bundle
	info := &VersionInfo{Source: src.Name(), Module: module, Version: version}

	var files map[string][]byte
	if info.Bundle, files, err = c.inspectImage(ctx, module, version, bundleRef, "version.json", "images_digests.json"); err != nil {
		return nil, err
	}
	info.VersionJSON = versionDocument(files["version.json"])
	info.ImagesDigests = map[string]string{}
	if data, ok := files["images_digests.json"]; ok {
		if info.ImagesDigests, err = parseImagesDigests(data); err != nil {
			return nil, fmt.Errorf("%s: %w", bundleRef, err)
		}
	}

	relRef, err := tagRef(src, module+"/release", version, c.nameOptions())
	if err != nil {
		return nil, err
	}
	var relFiles map[string][]byte
	if info.Release, relFiles, err = c.inspectImage(ctx, module, version, relRef, "changelog.yaml", "changelog.yml"); err != nil {
		return nil, err
	}
	for _, n := range []string{"changelog.yaml", "changelog.yml"} {
		if data, ok := relFiles[n]; ok {
			// DKP tolerates a malformed changelog; so does inspect.
			_ = yaml.Unmarshal(data, &info.Changelog)
			break
		}
	}

	tags, err := c.Tags(ctx, source, module)
	if err != nil {
		return nil, err
	}
	for _, vt := range tags.Versions {
		if vt.Version == version {
			info.Channels = vt.On
		}
	}
	return info, nil
}

// inspectImage fetches one image of module version, describes it and reads
// the named files from it (those it holds).
func (c *Client) inspectImage(ctx context.Context, module, version string, ref name.Reference, names ...string) (ImageInfo, map[string][]byte, error) {
	img, err := c.remoteImage(ctx, ref)
	if err != nil {
		return ImageInfo{}, nil, fmt.Errorf("module %s %s: %w", module, version, err)
	}
	desc, err := describeImage(ref, img)
	if err != nil {
		return ImageInfo{}, nil, err
	}
	files, err := readImageFiles(img, names...)
	if err != nil {
		return ImageInfo{}, nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	return desc, files, nil
}

func describeImage(ref name.Reference, img v1.Image) (ImageInfo, error) {
	m, err := img.Manifest()
	if err != nil {
		return ImageInfo{}, fmt.Errorf("reading manifest of %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return ImageInfo{}, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return ImageInfo{}, err
	}
	size := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return ImageInfo{Reference: ref.String(), Digest: d.String(), MediaType: string(m.MediaType), Size: size, Layers: len(m.Layers)}, nil
}

// versionDocument keeps version.json as a JSON value so that -o json shows
// it as an object; a file that is not JSON (another tool's artifact) is kept
// as a string rather than breaking the whole result.
func versionDocument(data []byte) json.RawMessage {
	if data == nil {
		return nil
	}
	if json.Valid(data) {
		return json.RawMessage(data)
	}
	quoted, _ := json.Marshal(string(data))
	return quoted
}
