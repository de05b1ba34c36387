package registry

import (
	"context"
	"crypto/md5" //nolint:gosec // see ReleaseChecksum
	"encoding/hex"
	"fmt"

	"sigs.k8s.io/yaml"
)

// Source is what a release controller needs from a module source: the
// catalogue, and the release metadata behind a channel or version tag.
type Source interface {
	ListModules(ctx context.Context, source string) ([]string, error)
	FetchRelease(ctx context.Context, source, module, tag string) (*Release, error)
}

var _ Source = (*Client)(nil)

// Release is the metadata of one release image, as DKP reads it to create a
// ModuleRelease without pulling the module image.
type Release struct {
	Module  string `json:"module"`
	Tag     string `json:"tag"`
	Version string `json:"version"`
	// Digest is the release image's manifest digest (what DKP compares to spot a change).
	Digest string `json:"digest"`
	// Changelog is changelog.yaml; a malformed one is empty, as in DKP.
	Changelog map[string]any `json:"changelog,omitempty"`
	// ModuleYAML is module.yaml from the release image, if it has one.
	ModuleYAML []byte `json:"moduleYAML,omitempty"`
}

// FetchRelease reads SOURCE/MODULE/release:TAG (a channel or a version).
func (c *Client) FetchRelease(ctx context.Context, source, module, tag string) (*Release, error) {
	src, err := c.parseRepo(source)
	if err != nil {
		return nil, err
	}
	if !IsChannel(tag) {
		if tag, err = ParseVersion(tag); err != nil {
			return nil, err
		}
	}
	ref, err := tagRef(src, module+"/release", tag, c.nameOptions())
	if err != nil {
		return nil, err
	}
	img, err := c.remoteImage(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", module, err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	files, err := readImageFiles(img, "version.json", "changelog.yaml", "changelog.yml", "module.yaml")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	data, ok := files["version.json"]
	if !ok {
		return nil, fmt.Errorf("%s: metadata malformed: no version.json", ref)
	}
	version, err := parseVersionJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	rel := &Release{Module: module, Tag: tag, Version: version, Digest: d.String(), ModuleYAML: files["module.yaml"]}
	for _, n := range []string{"changelog.yaml", "changelog.yml"} {
		if cl, ok := files[n]; ok {
			if yaml.Unmarshal(cl, &rel.Changelog) != nil {
				rel.Changelog = nil
			}
			break
		}
	}
	return rel, nil
}

// Checksum is DKP's release-checksum of the release image: the md5 of its
// digest (the ModuleRelease label and ModuleSource status.modules[].checksum).
func (r *Release) Checksum() string {
	return ReleaseChecksum(r.Digest)
}

// ReleaseChecksum is DKP's release-checksum of a release image digest.
func ReleaseChecksum(digest string) string {
	sum := md5.Sum([]byte(digest)) //nolint:gosec // DKP's checksum label, not a security check
	return hex.EncodeToString(sum[:])
}
