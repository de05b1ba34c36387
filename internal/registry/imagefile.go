package registry

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// maxMetadataFile caps metadata files read from images (version.json, changelog).
const maxMetadataFile = 1 << 20

// readImageFiles returns the named files of img (top layer wins), each at most
// 1 MiB; names absent from the image are absent from the map.
func readImageFiles(img v1.Image, names ...string) (map[string][]byte, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string][]byte{}
	for i := len(layers) - 1; i >= 0 && len(out) < len(want); i-- {
		rc, err := layers[i].Uncompressed()
		if err != nil {
			return nil, err
		}
		err = func() error {
			defer func() { _ = rc.Close() }()
			tr := tar.NewReader(rc)
			for {
				hdr, err := tr.Next()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					return err
				}
				n := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
				if !want[n] || hdr.Typeflag != tar.TypeReg {
					continue
				}
				if _, seen := out[n]; seen {
					continue
				}
				if hdr.Size > maxMetadataFile {
					return fmt.Errorf("%s is %d bytes, over %d", n, hdr.Size, maxMetadataFile)
				}
				data, err := io.ReadAll(io.LimitReader(tr, maxMetadataFile))
				if err != nil {
					return err
				}
				out[n] = data
				if len(out) == len(want) {
					return nil
				}
			}
		}()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseVersionJSON reads {"version": "..."} and returns the tag form.
func parseVersionJSON(data []byte) (string, error) {
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return "", fmt.Errorf("version.json: %w", err)
	}
	if v.Version == "" {
		return "", errors.New("version.json: metadata malformed: no version found")
	}
	return ParseVersion(v.Version)
}

// parseImagesDigests reads a bundle's images_digests.json: image keys to
// digests. A digest that is not "<algorithm>:<hex>" is refused here, before
// it is ever put into a registry URL.
func parseImagesDigests(data []byte) (map[string]string, error) {
	digests := map[string]string{}
	if err := json.Unmarshal(data, &digests); err != nil {
		return nil, fmt.Errorf("images_digests.json: %w", err)
	}
	if digests == nil { // the document was "null"
		digests = map[string]string{}
	}
	for key, d := range digests {
		if key == "" {
			return nil, errors.New("images_digests.json: an image with an empty name")
		}
		if _, err := v1.NewHash(d); err != nil {
			return nil, fmt.Errorf("images_digests.json: image %q: digest %q: %w", key, d, err)
		}
	}
	return digests, nil
}

// remoteImage fetches the image at ref.
func (c *Client) remoteImage(ctx context.Context, ref name.Reference) (v1.Image, error) {
	img, err := remote.Image(ref, c.remoteOptions(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: not found in the registry", ref)
		}
		return nil, fmt.Errorf("fetching %s: %w", ref, c.explainAuth(ref.Context(), err))
	}
	return img, nil
}

// releaseVersion reads version.json of the release image at ref.
func (c *Client) releaseVersion(ctx context.Context, ref name.Reference) (string, v1.Image, error) {
	img, err := c.remoteImage(ctx, ref)
	if err != nil {
		return "", nil, err
	}
	files, err := readImageFiles(img, "version.json")
	if err != nil {
		return "", nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	data, ok := files["version.json"]
	if !ok {
		return "", nil, fmt.Errorf("%s: metadata malformed: no version.json", ref)
	}
	v, err := parseVersionJSON(data)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", ref, err)
	}
	return v, img, nil
}
