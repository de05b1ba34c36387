package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"sigs.k8s.io/yaml"
)

// ImageRef is a container image of the module, already pushed by any builder.
type ImageRef struct {
	// Key is the images_digests.json key: the camelCased image name.
	Key string `json:"key"`
	// Ref is where the builder pushed it (tag or digest).
	Ref string `json:"ref"`
}

// ParseImageFlags parses repeated "NAME=REF" values (--image).
func ParseImageFlags(values []string) ([]ImageRef, error) {
	var out []ImageRef
	for _, v := range values {
		n, ref, ok := strings.Cut(v, "=")
		if !ok || strings.TrimSpace(n) == "" || strings.TrimSpace(ref) == "" {
			return nil, fmt.Errorf("--image %q: want NAME=REF, e.g. controller=registry.example.io/acme/controller:v1", v)
		}
		out = append(out, ImageRef{Key: camelImageName(n), Ref: strings.TrimSpace(ref)})
	}
	return out, nil
}

// LoadImagesFile reads a map of image name to reference, as YAML or JSON
// ({"controller": "reg/path:tag"}), or a werf build report
// ({"Images": {"controller": {"DockerImageName": "..."}}}; the module's own
// bundle and release images in it are skipped).
func LoadImagesFile(path string) ([]ImageRef, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading images file %s: %w", path, err)
	}
	var report struct {
		Images map[string]struct {
			DockerImageName string
			Final           *bool
		}
	}
	if err := json.Unmarshal(data, &report); err == nil && len(report.Images) > 0 {
		var out []ImageRef
		for n, img := range report.Images {
			if isBuildOnlyImage(n) || (img.Final != nil && !*img.Final) {
				continue
			}
			if img.DockerImageName == "" {
				return nil, fmt.Errorf("images file %s: Images.%s.DockerImageName is empty", path, n)
			}
			out = append(out, ImageRef{Key: camelImageName(n), Ref: img.DockerImageName})
		}
		return sortImages(out), nil
	}
	var plain map[string]string
	if err := yaml.Unmarshal(data, &plain); err != nil {
		return nil, fmt.Errorf("images file %s: want a map of image name to reference: %w", path, err)
	}
	var out []ImageRef
	for n, ref := range plain {
		if strings.TrimSpace(ref) == "" {
			return nil, fmt.Errorf("images file %s: image %q has an empty reference", path, n)
		}
		out = append(out, ImageRef{Key: camelImageName(n), Ref: ref})
	}
	return sortImages(out), nil
}

func isBuildOnlyImage(n string) bool {
	switch n {
	case "bundle", "release-channel-version", "images-digests", "images-digests-and-version", "batch-hooks", "python-dependencies":
		return true
	}
	return strings.HasPrefix(n, "base-images") || strings.HasSuffix(n, "-artifact")
}

func sortImages(in []ImageRef) []ImageRef {
	sort.Slice(in, func(i, j int) bool { return in[i].Key < in[j].Key })
	return in
}

// camelImageName turns the last path segment of an image name into the
// images_digests.json key DKP templates use: "images/my-controller" -> "myController".
func camelImageName(n string) string {
	n = strings.TrimSpace(n)
	if i := strings.LastIndex(n, "/"); i >= 0 {
		n = n[i+1:]
	}
	var b strings.Builder
	upper := false
	for i, r := range n {
		if r == '-' || r == '_' || r == '.' {
			upper = b.Len() > 0
			continue
		}
		switch {
		case upper:
			b.WriteRune(unicode.ToUpper(r))
		case i == 0:
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
		upper = false
	}
	return b.String()
}

// resolvedImage is an ImageRef with its manifest digest.
type resolvedImage struct {
	ImageRef
	Digest string
	From   name.Digest
}

// resolveImages looks up the manifest digest of every image (one HEAD each).
func (c *Client) resolveImages(ctx context.Context, images []ImageRef) ([]resolvedImage, error) {
	seen := map[string]string{}
	out := make([]resolvedImage, 0, len(images))
	for _, img := range images {
		if prev, dup := seen[img.Key]; dup {
			return nil, fmt.Errorf("image key %q is given twice (%s and %s)", img.Key, prev, img.Ref)
		}
		seen[img.Key] = img.Ref
		ref, err := c.ParseReference(img.Ref)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.Key, err)
		}
		desc, err := remote.Head(ref, c.remoteOptions(ctx)...)
		if err != nil {
			return nil, fmt.Errorf("resolving image %s (%s): %w", img.Key, img.Ref, c.explainAuth(ref.Context(), err))
		}
		if d, ok := ref.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
			return nil, fmt.Errorf("image %s (%s): registry serves digest %s", img.Key, img.Ref, desc.Digest)
		}
		out = append(out, resolvedImage{ImageRef: img, Digest: desc.Digest.String(), From: ref.Context().Digest(desc.Digest.String())})
	}
	return out, nil
}
