package registry

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestOnly is an image of which only the manifest is known: what the
// checks may read before any blob is fetched. Any other method panics
// (nil embedded interface), so a check that reaches for a blob fails the fuzz.
type manifestOnly struct {
	v1.Image
	mt  types.MediaType
	raw []byte
}

func (m manifestOnly) MediaType() (types.MediaType, error) { return m.mt, nil }
func (m manifestOnly) RawManifest() ([]byte, error)        { return m.raw, nil }

var fuzzMediaTypes = []types.MediaType{types.OCIManifestSchema1, types.DockerManifestSchema2, types.OCIImageIndex, types.MediaType("application/json")}

// FuzzCheckedManifest: a registry's manifest bytes under any declared media
// type are either refused as a malformed image, or give a manifest whose
// config and layers all have sha256 digests, sizes that are not negative and
// the media types of a config and of layers.
func FuzzCheckedManifest(f *testing.F) {
	good := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":10},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:` + strings.Repeat("b", 64) + `","size":20}]}`
	f.Add([]byte(good), uint8(0))
	f.Add([]byte(good), uint8(1))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`), uint8(0))
	f.Add([]byte(strings.Replace(good, `"size":20`, `"size":-1`, 1)), uint8(0))
	f.Add([]byte(strings.Replace(good, "tar+gzip", "json", 1)), uint8(0))
	f.Add([]byte(`not json`), uint8(0))
	f.Add([]byte(good), uint8(2))
	f.Fuzz(func(t *testing.T, raw []byte, mt uint8) {
		img := manifestOnly{mt: fuzzMediaTypes[int(mt)%len(fuzzMediaTypes)], raw: raw}
		m, err := checkedManifest("fuzz@sha256:x", img)
		if err != nil {
			if !errors.Is(err, ErrMalformedImage) || !strings.Contains(err.Error(), "fuzz@sha256:x") {
				t.Fatalf("refusal is not a named malformed-image error: %v", err)
			}
			return
		}
		if !m.Config.MediaType.IsConfig() || checkDescriptor(m.Config) != nil {
			t.Fatalf("accepted config descriptor %+v", m.Config)
		}
		for i, l := range m.Layers {
			if !l.MediaType.IsLayer() || checkDescriptor(l) != nil {
				t.Fatalf("accepted layer %d descriptor %+v", i, l)
			}
		}
	})
}

// FuzzCheckConfig: any config blob is either refused as malformed or is a
// layers rootfs with one diff ID per layer of the manifest.
func FuzzCheckConfig(f *testing.F) {
	f.Add([]byte(`{"rootfs":{"type":"layers","diff_ids":["sha256:` + strings.Repeat("c", 64) + `"]}}`))
	f.Add([]byte(`{"rootfs":{"type":"layers","diff_ids":[]}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"rootfs":{"type":"other"}}`))
	f.Add([]byte(`{"config":{"Env":["A=B"]},"rootfs":{"type":"layers","diff_ids":["sha256:1"]}}`))
	m := &v1.Manifest{Layers: []v1.Descriptor{{MediaType: types.OCILayer}}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		err := checkConfig("fuzz", m, raw)
		if err != nil {
			if !errors.Is(err, ErrMalformedImage) {
				t.Fatalf("refusal is not a malformed-image error: %v", err)
			}
			return
		}
		cf, perr := v1.ParseConfigFile(strings.NewReader(string(raw)))
		if perr != nil || cf.RootFS.Type != "layers" || len(cf.RootFS.DiffIDs) != 1 {
			t.Fatalf("accepted config %q", raw)
		}
	})
}
