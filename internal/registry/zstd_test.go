package registry_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

// blobCounter is a reverse proxy in front of a registry that counts blob
// downloads per path.
type blobCounter struct {
	mu   sync.Mutex
	gets map[string]int
}

func countingProxy(t *testing.T, registryAddr string) (string, *blobCounter) {
	t.Helper()
	bc := &blobCounter{gets: map[string]int{}}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: registryAddr})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			bc.mu.Lock()
			bc.gets[r.URL.Path]++
			bc.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), bc
}

// TestPullZstdLayerDownloadsOnce pushes a module image whose layer is
// zstd-compressed and pulls it through a counting proxy: the tree is right
// and every blob was fetched once.
func TestPullZstdLayerDownloadsOnce(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		host, repo, _ := strings.Cut(source, "/")
		proxyAddr, counter := countingProxy(t, host)
		source = proxyAddr + "/" + repo

		data := tarOf(t, reg("module.yaml", 3), reg("templates/cm.yaml", 100000))
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
			tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
		if err != nil {
			t.Fatal(err)
		}
		if mt, _ := layer.MediaType(); mt != types.OCILayerZStd {
			t.Fatalf("layer media type %s, want zstd", mt)
		}
		img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
		if err != nil {
			t.Fatal(err)
		}
		writeImage(t, source+"/zstd:v1.0.0", img)
		counter.mu.Lock()
		clear(counter.gets)
		counter.mu.Unlock()

		dest := filepath.Join(t.TempDir(), "zstd")
		if _, err := newClient(t).Pull(ctx(t), source, "zstd", "v1.0.0", dest, registry.PullOptions{}); err != nil {
			t.Fatal(err)
		}
		assertTree(t, readTree(t, dest), map[string]string{"module.yaml": "aaa", "templates/cm.yaml": strings.Repeat("a", 100000)})

		ld, _ := layer.Digest()
		counter.mu.Lock()
		defer counter.mu.Unlock()
		layerGets := 0
		for p, n := range counter.gets {
			if n != 1 {
				t.Errorf("blob %s downloaded %d times", p, n)
			}
			if strings.HasSuffix(p, ld.String()) {
				layerGets = n
			}
		}
		if layerGets != 1 {
			t.Fatalf("zstd layer %s downloaded %d times, want once (downloads: %v)", ld, layerGets, counter.gets)
		}
	})
}
