package registry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// epoch is the modification time of every archived entry, so that the same
// files always give the same layer digest.
var epoch = time.Unix(0, 0).UTC()

// bundleTopFiles are the root files of a module copied into the bundle image,
// and bundleTopDirs the directories copied whole (modules-template bundle stage).
var (
	bundleTopFiles = []string{".helmignore", "Chart.yaml", "module.yaml", "values.yaml", "enabled", "package.yaml"}
	bundleTopDirs  = []string{"charts", "crds", "hooks", "monitoring", "openapi", "templates"}
	// releaseTopFiles / releaseTopDirs: what the release image carries besides
	// version.json and changelog.yaml (modules-template release stage).
	releaseTopFiles = []string{"module.yaml"}
	releaseTopDirs  = []string{"crds", "openapi"}
	docImageExts    = []string{".png", ".jpeg", ".jpg", ".svg"}
)

// fileEntry is one file of an artifact layer: read from Source on disk, or
// taken from Data when Source is empty.
type fileEntry struct {
	Name     string // slash path inside the image, no leading slash
	Source   string
	Data     []byte
	Mode     int64 // 0o644 or 0o755
	Linkname string
	Dir      bool
}

// selectModuleFiles walks dir and returns the entries of a bundle (release=false)
// or release image (release=true) in the modules-template layout: build-only
// files (images/, werf*, .werf, oss.yaml, hooks/batch sources, ...) are left out.
func selectModuleFiles(dir string, release bool) ([]fileEntry, error) {
	topFiles, topDirs := bundleTopFiles, bundleTopDirs
	if release {
		topFiles, topDirs = releaseTopFiles, releaseTopDirs
	}
	var out []fileEntry
	for _, f := range topFiles {
		e, ok, err := statEntry(dir, f)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, e)
		}
	}
	walk := func(rel string, keep func(rel string, d fs.DirEntry) bool) error {
		root := filepath.Join(dir, rel)
		if ok, err := isModuleDir(root); err != nil || !ok {
			return err
		}
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("reading %s: %w", p, err)
			}
			r, _ := filepath.Rel(dir, p)
			r = filepath.ToSlash(r)
			if d.IsDir() {
				if r == "hooks/batch" || d.Name() == ".git" {
					return filepath.SkipDir
				}
				return nil
			}
			if keep != nil && !keep(r, d) {
				return nil
			}
			e, _, err := statEntry(dir, r)
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	}
	for _, d := range topDirs {
		if err := walk(d, nil); err != nil {
			return nil, err
		}
	}
	// docs/*.md and docs/images/*.{png,jpeg,jpg,svg}, as DKP renders them.
	if err := walk("docs", func(rel string, _ fs.DirEntry) bool {
		dirPart, base := path.Split(rel)
		switch dirPart {
		case "docs/":
			return strings.HasSuffix(base, ".md")
		case "docs/images/":
			for _, ext := range docImageExts {
				if strings.EqualFold(path.Ext(base), ext) {
					return true
				}
			}
		}
		return false
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// isModuleDir reports whether a top-level directory of the module exists. A
// symlink or a file in its place is an error rather than silently left out of
// the image.
func isModuleDir(p string) (bool, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", p, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, _ := os.Readlink(p)
		return false, fmt.Errorf("%s is a symlink (to %s): a module's top-level directories are published only as real directories; replace the link with the directory", p, target)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s is a file, not a directory: the module image expects %s/ to be a directory", p, filepath.Base(p))
	}
	return true, nil
}

// statEntry describes dir/rel for the archive; ok is false if it does not exist.
func statEntry(dir, rel string) (fileEntry, bool, error) {
	p := filepath.Join(dir, filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	if os.IsNotExist(err) {
		return fileEntry{}, false, nil
	}
	if err != nil {
		return fileEntry{}, false, fmt.Errorf("reading %s: %w", p, err)
	}
	e := fileEntry{Name: rel, Source: p, Mode: 0o644}
	switch {
	case fi.Mode().IsRegular():
		if fi.Mode()&0o111 != 0 {
			e.Mode = 0o755
		}
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(p)
		if err != nil {
			return fileEntry{}, false, fmt.Errorf("reading symlink %s: %w", p, err)
		}
		if filepath.IsAbs(target) || !isLocalLink(rel, filepath.ToSlash(target)) {
			return fileEntry{}, false, fmt.Errorf("symlink %s points outside the module (%s): only relative links inside the module can be published", p, target)
		}
		e.Linkname, e.Mode, e.Source = filepath.ToSlash(target), 0o777, ""
	case fi.IsDir():
		e.Dir, e.Mode, e.Source = true, 0o755, ""
	default:
		return fileEntry{}, false, fmt.Errorf("%s is a %s, not a regular file: it cannot be published", p, fi.Mode().Type())
	}
	return e, true, nil
}

// isLocalLink reports whether a relative link at name resolves inside the tree.
func isLocalLink(name, target string) bool {
	joined := path.Join(path.Dir(name), target)
	return joined != ".." && !strings.HasPrefix(joined, "../") && !path.IsAbs(joined)
}

// buildLayer writes entries (plus their parent directories) as a gzipped tar
// with sorted names, fixed times, uid/gid 0 and modes from the exec bit only.
func buildLayer(entries []fileEntry) ([]byte, error) {
	byName := map[string]fileEntry{}
	for _, e := range entries {
		for d := path.Dir(e.Name); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := byName[d]; !ok {
				byName[d] = fileEntry{Name: d, Dir: true, Mode: 0o755}
			}
		}
		byName[e.Name] = e
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)

	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, n := range names {
		e := byName[n]
		hdr := &tar.Header{Name: e.Name, Mode: e.Mode, ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case e.Dir:
			hdr.Typeflag, hdr.Name = tar.TypeDir, e.Name+"/"
		case e.Linkname != "":
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.Linkname
		default:
			hdr.Typeflag = tar.TypeReg
		}
		var body io.Reader
		if hdr.Typeflag == tar.TypeReg {
			data := e.Data
			if e.Source != "" {
				if data, err = os.ReadFile(e.Source); err != nil {
					return nil, fmt.Errorf("reading %s: %w", e.Source, err)
				}
			}
			hdr.Size = int64(len(data))
			body = bytes.NewReader(data)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("archiving %s: %w", e.Name, err)
		}
		if body != nil {
			if _, err := io.Copy(tw, body); err != nil {
				return nil, fmt.Errorf("archiving %s: %w", e.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
