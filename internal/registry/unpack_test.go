package registry_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// tarOf builds a tar stream from headers; regular files get size bytes of 'a'
// unless body is given.
func tarOf(t testing.TB, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg && h.Size > 0 {
			if _, err := io.CopyN(tw, zeroReader{}, h.Size); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func reg(name string, size int64) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Size: size}
}

func unpack(dest string, limits registry.UnpackLimits, layers ...[]byte) error {
	return registry.UnpackTars(dest, registry.UnpackOptions{Limits: limits}, func(yield func(io.Reader) error) error {
		for _, l := range layers {
			if err := yield(bytes.NewReader(l)); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestUnpackRefusesUnsafeArchives(t *testing.T) {
	cases := []struct {
		name   string
		tar    []*tar.Header
		limits registry.UnpackLimits
		entry  string
	}{
		{"absolute path", []*tar.Header{reg("/etc/evil", 3)}, registry.UnpackLimits{}, "/etc/evil"},
		{"dot-dot", []*tar.Header{reg("templates/../../evil", 3)}, registry.UnpackLimits{}, "templates/../../evil"},
		{"symlink to absolute", []*tar.Header{{Name: "etc", Typeflag: tar.TypeSymlink, Linkname: "/etc"}}, registry.UnpackLimits{}, "etc"},
		{"symlink climbing out", []*tar.Header{{Name: "a/up", Typeflag: tar.TypeSymlink, Linkname: "../../outside"}}, registry.UnpackLimits{}, "a/up"},
		{"write through a symlink", []*tar.Header{
			{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "."},
			reg("link/../../escape", 1),
		}, registry.UnpackLimits{}, "link/../../escape"},
		{"hardlink outside", []*tar.Header{{Name: "passwd", Typeflag: tar.TypeLink, Linkname: "../../etc/passwd"}}, registry.UnpackLimits{}, "passwd"},
		{"hardlink to absolute", []*tar.Header{{Name: "passwd", Typeflag: tar.TypeLink, Linkname: "/etc/passwd"}}, registry.UnpackLimits{}, "passwd"},
		{"char device", []*tar.Header{{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}}, registry.UnpackLimits{}, "dev/null"},
		{"block device", []*tar.Header{{Name: "sda", Typeflag: tar.TypeBlock}}, registry.UnpackLimits{}, "sda"},
		{"fifo", []*tar.Header{{Name: "pipe", Typeflag: tar.TypeFifo}}, registry.UnpackLimits{}, "pipe"},
		{"file over the per-file cap", []*tar.Header{reg("big", 2048)}, registry.UnpackLimits{MaxFileSize: 1024}, "big"},
		{"total over the cap", []*tar.Header{reg("a", 600), reg("b", 600)}, registry.UnpackLimits{MaxTotalSize: 1000}, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dest := filepath.Join(base, "sub", "module")
			// A previous complete tree must survive a refused unpack.
			if err := unpack(dest, registry.UnpackLimits{}, tarOf(t, reg("old", 3))); err != nil {
				t.Fatal(err)
			}
			err := unpack(dest, tc.limits, tarOf(t, tc.tar...))
			if !errors.Is(err, registry.ErrUnsafeArchive) {
				t.Fatalf("got %v, want ErrUnsafeArchive", err)
			}
			if !strings.Contains(err.Error(), `"`+tc.entry+`"`) {
				t.Fatalf("error %q does not name entry %q", err, tc.entry)
			}
			// Nothing but the old tree anywhere under base.
			var all []string
			_ = filepath.Walk(base, func(p string, _ os.FileInfo, _ error) error {
				rel, _ := filepath.Rel(base, p)
				all = append(all, rel)
				return nil
			})
			if strings.Join(all, ",") != ".,sub,sub/.module.deckhand-pull.json,sub/module,sub/module/old" {
				t.Fatalf("after refusal the disk holds %v", all)
			}
		})
	}
}

func TestUnpackKeepsSafeLinksAndAppliesLayers(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "m")
	lower := tarOf(t,
		reg("templates/a.yaml", 4),
		reg("templates/gone.yaml", 4),
		&tar.Header{Name: "hooks/run", Typeflag: tar.TypeReg, Mode: 0o700, Size: 2},
		&tar.Header{Name: "templates/alias.yaml", Typeflag: tar.TypeSymlink, Linkname: "a.yaml"},
		&tar.Header{Name: "copy.yaml", Typeflag: tar.TypeLink, Linkname: "templates/a.yaml"},
		&tar.Header{Name: "docs/", Typeflag: tar.TypeDir, Mode: 0o777},
		reg("docs/old.md", 1),
	)
	upper := tarOf(t,
		&tar.Header{Name: "templates/.wh.gone.yaml", Typeflag: tar.TypeReg},
		&tar.Header{Name: "docs/.wh..wh..opq", Typeflag: tar.TypeReg},
		reg("docs/new.md", 1),
		reg("./templates/a.yaml", 5),
	)
	if err := unpack(dest, registry.UnpackLimits{}, lower, upper); err != nil {
		t.Fatal(err)
	}
	got := readTree(t, dest)
	want := map[string]string{
		"templates/a.yaml":     "aaaaa",
		"templates/alias.yaml": "aaaaa",
		"copy.yaml":            "aaaa",
		"hooks/run":            "x:aa",
		"docs/new.md":          "a",
	}
	assertTree(t, got, want)
	if fi, err := os.Lstat(filepath.Join(dest, "templates/alias.yaml")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("relative symlink not kept: %v %v", fi, err)
	}
	if fi, _ := os.Stat(filepath.Join(dest, "docs")); fi.Mode().Perm() != 0o755 {
		t.Fatalf("docs mode %v, want 0755", fi.Mode().Perm())
	}
}

// TestPullRefusesMaliciousImage pushes an image with a traversal entry under
// a module version and checks pull refuses it and leaves the target alone.
func TestPullRefusesMaliciousImage(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		data := tarOf(t, reg("module.yaml", 3), reg("../../../tmp/deckhand-evil", 3))
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(empty.Image, layer)
		if err != nil {
			t.Fatal(err)
		}
		writeImage(t, source+"/evil:v1.0.0", img)
		dest := filepath.Join(t.TempDir(), "evil")
		_, err = newClient(t).Pull(ctx(t), source, "evil", "v1.0.0", dest, registry.PullOptions{})
		if !errors.Is(err, registry.ErrUnsafeArchive) || !strings.Contains(err.Error(), "../../../tmp/deckhand-evil") {
			t.Fatalf("pull of a malicious image: %v", err)
		}
		if _, err := os.Stat(dest); !os.IsNotExist(err) {
			t.Fatalf("target exists after a refused pull: %v", err)
		}
		if entries, _ := os.ReadDir(filepath.Dir(dest)); len(entries) != 0 {
			t.Fatalf("temp dirs left behind: %v", entries)
		}
	})
}
