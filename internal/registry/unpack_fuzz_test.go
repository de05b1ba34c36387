package registry_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

// FuzzUnpackTars: whatever a layer holds, the unpacker never writes outside
// its target and leaves either nothing or a whole tree.
func FuzzUnpackTars(f *testing.F) {
	f.Add(tarOf(f, &tar.Header{Name: "module.yaml", Typeflag: tar.TypeReg, Size: 7}))
	f.Add(tarOf(f, &tar.Header{Name: "../escape", Typeflag: tar.TypeReg, Size: 7}))
	f.Add(tarOf(f, &tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}))
	f.Add(tarOf(f, &tar.Header{Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755}, &tar.Header{Name: "a/b", Typeflag: tar.TypeLink, Linkname: "../../x"}))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dest := filepath.Join(root, "out")
		err := registry.UnpackTars(dest, registry.UnpackOptions{Limits: registry.UnpackLimits{MaxFileSize: 1 << 20, MaxTotalSize: 4 << 20}},
			func(yield func(io.Reader) error) error { return yield(bytes.NewReader(data)) })
		entries, rerr := os.ReadDir(root)
		if rerr != nil {
			t.Fatal(rerr)
		}
		for _, e := range entries {
			name := e.Name()
			if name != "out" && !strings.HasPrefix(name, ".out") {
				t.Fatalf("unpack wrote %s next to its target", name)
			}
		}
		if err != nil {
			if _, serr := os.Stat(dest); serr == nil {
				t.Fatalf("a failed unpack left %s: %v", dest, err)
			}
		}
	})
}
