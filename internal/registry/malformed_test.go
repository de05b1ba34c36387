package registry_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// fakeRegistry serves fixed bytes under fixed paths, whatever they are, so a
// test can put a manifest or blob that lies about itself in front of the
// client. It counts GETs per path.
type fakeRegistry struct {
	mu      sync.Mutex
	objects map[string]fakeObject
	gets    map[string]int
}

type fakeObject struct {
	contentType string
	body        []byte
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v2/" {
		return
	}
	f.mu.Lock()
	obj, ok := f.objects[r.URL.Path]
	if r.Method == http.MethodGet {
		f.gets[r.URL.Path]++
	}
	f.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[{"code":"MANIFEST_UNKNOWN","message":"not here"}]}`))
		return
	}
	w.Header().Set("Content-Type", obj.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(obj.body)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(obj.body)
	}
}

func (f *fakeRegistry) getsOf(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets[path]
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func desc(mediaType string, body []byte, size int) map[string]any {
	return map[string]any{"mediaType": mediaType, "digest": sha(body), "size": size}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	ociManifest = "application/vnd.oci.image.manifest.v1+json"
	ociConfig   = "application/vnd.oci.image.config.v1+json"
	ociLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
	ociIndex    = "application/vnd.oci.image.index.v1+json"
)

// TestPullRefusesMalformedImages serves module images whose manifest, config
// or layer is not what its media type or descriptor says: each pull is
// refused with an error naming the repository and the manifest digest, the
// layer is never unpacked (for manifest and config faults never even
// downloaded), and nothing is left where the tree would have gone.
func TestPullRefusesMalformedImages(t *testing.T) {
	rawTar := tarOf(t, reg("module.yaml", 5))
	layer := gz(t, rawTar)
	goodConfig := mustJSON(t, map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{sha(rawTar)}}})
	manifest := func(config map[string]any, layerSize int) []byte {
		return mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": ociManifest,
			"config": config, "layers": []any{desc(ociLayer, layer, layerSize)}})
	}
	notJSON := []byte("this is not JSON")
	notImageConfig := []byte(`{"name":"hello","weight":900}`)
	cases := []struct {
		name string
		// manifest served for the tag, with its Content-Type; config the
		// config blob served.
		manifest     []byte
		manifestType string
		config       []byte
		want         string
		layerFetched bool
	}{
		{name: "good", manifest: manifest(desc(ociConfig, goodConfig, len(goodConfig)), len(layer)), config: goodConfig, layerFetched: true},
		{name: "manifest is an index", manifest: mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": ociIndex,
			"manifests": []any{desc(ociManifest, goodConfig, len(goodConfig))}}), want: "is an image index"},
		{name: "manifest is an index without mediaType", manifest: mustJSON(t, map[string]any{"schemaVersion": 2,
			"manifests": []any{desc(ociManifest, goodConfig, len(goodConfig))}}), want: "is an image index"},
		{name: "manifest is garbage", manifest: notJSON, want: "is not JSON"},
		{name: "manifest says another media type", manifestType: "application/vnd.docker.distribution.manifest.v2+json",
			manifest: manifest(desc(ociConfig, goodConfig, len(goodConfig)), len(layer)), config: goodConfig, want: "says it is " + ociManifest},
		{name: "config is not JSON", manifest: manifest(desc(ociConfig, notJSON, len(notJSON)), len(layer)), config: notJSON, want: "is not a JSON object"},
		{name: "config is not an image config", manifest: manifest(desc(ociConfig, notImageConfig, len(notImageConfig)), len(layer)),
			config: notImageConfig, want: `rootfs type ""`},
		{name: "config media type is not a config", manifest: manifest(desc("application/vnd.deckhand.module.config.v1+json", goodConfig, len(goodConfig)), len(layer)),
			config: goodConfig, want: "not an image config"},
		{name: "layer larger than declared", manifest: manifest(desc(ociConfig, goodConfig, len(goodConfig)), len(layer)-10),
			config: goodConfig, want: "descriptor says " + strconv.Itoa(len(layer)-10), layerFetched: true},
		{name: "layer smaller than declared", manifest: manifest(desc(ociConfig, goodConfig, len(goodConfig)), len(layer)+10),
			config: goodConfig, want: "descriptor says " + strconv.Itoa(len(layer)+10), layerFetched: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			repo := "/v2/acme/modules/hello"
			mt := tc.manifestType
			if mt == "" {
				mt = ociManifest
			}
			fake := &fakeRegistry{gets: map[string]int{}, objects: map[string]fakeObject{
				repo + "/manifests/v1.0.0":        {mt, tc.manifest},
				repo + "/blobs/" + sha(layer):     {"application/octet-stream", layer},
				repo + "/blobs/" + sha(tc.config): {"application/octet-stream", tc.config},
			}}
			srv := httptest.NewServer(fake)
			t.Cleanup(srv.Close)
			source := strings.TrimPrefix(srv.URL, "http://") + "/acme/modules"
			c := newClient(t, registry.WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Steps: 3}))
			parent := t.TempDir()
			dest := filepath.Join(parent, "hello")

			_, err := c.PullTag(ctx(t), source, "hello", "v1.0.0", dest, registry.PullOptions{})
			if got := fake.getsOf(repo + "/blobs/" + sha(layer)); (got > 0) != tc.layerFetched {
				t.Errorf("layer downloaded %d times, want downloaded: %v", got, tc.layerFetched)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("pulling a well-formed image: %v", err)
				}
				if tree := readTree(t, dest); tree["module.yaml"] != "aaaaa" {
					t.Fatalf("pulled tree = %v", tree)
				}
				return
			}
			if err == nil {
				t.Fatal("pull succeeded, want a refusal")
			}
			t.Logf("refused: %v", err)
			msg := err.Error()
			if !errors.Is(err, registry.ErrMalformedImage) || !strings.Contains(msg, tc.want) ||
				!strings.Contains(msg, source+"/hello@"+sha(tc.manifest)) {
				t.Fatalf("error = %v\nwant ErrMalformedImage saying %q and naming %s", err, tc.want, source+"/hello@"+sha(tc.manifest))
			}
			entries, rerr := os.ReadDir(parent)
			if rerr != nil || len(entries) != 0 {
				t.Fatalf("after a refused pull %s holds %v (%v), want nothing", parent, entries, rerr)
			}
		})
	}
}
