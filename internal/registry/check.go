package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrMalformedImage is wrapped by every refusal of an image whose manifest,
// config or layers are not what their media types and descriptors say.
var ErrMalformedImage = errors.New("malformed image")

// maxConfigSize caps an image config: real ones are a few KiB, and the config
// is read into memory.
const maxConfigSize = 4 << 20

func malformed(what, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", what, ErrMalformedImage, fmt.Sprintf(format, args...))
}

// checkedManifest parses img's manifest and checks that its body is what
// its media type says: an image manifest (not an index, not some other JSON)
// with a config descriptor and layer descriptors of layer media types. what
// names the image in errors (repository and digest). It reads nothing but the
// manifest, so a malformed image is refused before any blob is fetched.
func checkedManifest(what string, img v1.Image) (*v1.Manifest, error) {
	mt, err := img.MediaType()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the manifest media type: %w", what, err)
	}
	if !mt.IsImage() {
		return nil, malformed(what, "manifest media type %q is not an image manifest", mt)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the manifest: %w", what, err)
	}
	// The fields that tell an index or another document from an image manifest.
	var probe struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     types.MediaType `json:"mediaType"`
		Config        json.RawMessage `json:"config"`
		Layers        json.RawMessage `json:"layers"`
		Manifests     json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, malformed(what, "manifest declared as %s is not JSON: %v", mt, err)
	}
	switch {
	case probe.Manifests != nil:
		return nil, malformed(what, "manifest declared as %s is an image index (it lists manifests)", mt)
	case probe.MediaType != "" && probe.MediaType != mt:
		return nil, malformed(what, "manifest declared as %s says it is %s", mt, probe.MediaType)
	case probe.SchemaVersion != 2:
		return nil, malformed(what, "manifest declared as %s has schemaVersion %d, want 2", mt, probe.SchemaVersion)
	case probe.Config == nil || probe.Layers == nil:
		return nil, malformed(what, "manifest declared as %s has no config or no layers list", mt)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, malformed(what, "manifest declared as %s: %v", mt, err)
	}
	if !m.Config.MediaType.IsConfig() {
		return nil, malformed(what, "config %s has media type %q, not an image config", m.Config.Digest, m.Config.MediaType)
	}
	if err := checkDescriptor(m.Config); err != nil {
		return nil, malformed(what, "config: %v", err)
	}
	if m.Config.Size > maxConfigSize {
		return nil, malformed(what, "config %s is %d bytes, over %d", m.Config.Digest, m.Config.Size, maxConfigSize)
	}
	for i, l := range m.Layers {
		if !l.MediaType.IsLayer() {
			return nil, malformed(what, "layer %d (%s) has media type %q, not a layer", i, l.Digest, l.MediaType)
		}
		if err := checkDescriptor(l); err != nil {
			return nil, malformed(what, "layer %d: %v", i, err)
		}
	}
	return m, nil
}

func checkDescriptor(d v1.Descriptor) error {
	if d.Digest.Algorithm != "sha256" || len(d.Digest.Hex) != 64 {
		return fmt.Errorf("digest %q is not a sha256 digest", d.Digest)
	}
	if d.Size < 0 {
		return fmt.Errorf("%s has negative size %d", d.Digest, d.Size)
	}
	return nil
}

// checkConfig checks that the config blob (already verified against its
// descriptor's digest and size) is the image config its media type says: a
// JSON object with a layers rootfs listing one diff ID per layer of m.
func checkConfig(what string, m *v1.Manifest, raw []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return malformed(what, "config %s declared as %s is not a JSON object: %v", m.Config.Digest, m.Config.MediaType, err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return malformed(what, "config %s declared as %s: %v", m.Config.Digest, m.Config.MediaType, err)
	}
	if cf.RootFS.Type != "layers" {
		return malformed(what, "config %s declared as %s has rootfs type %q, want \"layers\"", m.Config.Digest, m.Config.MediaType, cf.RootFS.Type)
	}
	if len(cf.RootFS.DiffIDs) != len(m.Layers) {
		return malformed(what, "config %s lists %d layer diff IDs, the manifest %d layers", m.Config.Digest, len(cf.RootFS.DiffIDs), len(m.Layers))
	}
	return nil
}
