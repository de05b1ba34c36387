package registry

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// UnpackLimits cap what an archive may write; zero fields take the defaults.
type UnpackLimits struct {
	// MaxFileSize caps one file (default 256 MiB).
	MaxFileSize int64
	// MaxTotalSize caps all files together (default 1 GiB).
	MaxTotalSize int64
	// MaxEntries caps the number of entries (default 100000).
	MaxEntries int
}

func (l UnpackLimits) withDefaults() UnpackLimits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = 256 << 20
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = 1 << 30
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 100000
	}
	return l
}

// ErrUnsafeArchive is wrapped by every refusal of an archive entry.
var ErrUnsafeArchive = errors.New("unsafe archive")

// unpacker writes tar streams into one directory and never outside it: entry
// names are checked lexically (no absolute paths, no ".."), links must stay
// inside, and every write goes through os.Root, which refuses to follow a
// symlink out of the directory.
type unpacker struct {
	root   *os.Root
	limits UnpackLimits
	total  int64
	count  int
}

func unsafeEntry(name, format string, args ...any) error {
	return fmt.Errorf("%w: entry %q %s", ErrUnsafeArchive, name, fmt.Sprintf(format, args...))
}

// cleanEntryName turns a tar entry name into a relative slash path inside the
// target, or refuses it.
func cleanEntryName(n string) (string, error) {
	if n == "" {
		return "", unsafeEntry(n, "has an empty name")
	}
	if strings.HasPrefix(n, "/") || filepath.IsAbs(n) {
		return "", unsafeEntry(n, "has an absolute path")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", unsafeEntry(n, "climbs out with \"..\"")
		}
	}
	if strings.ContainsRune(n, 0) || strings.Contains(n, "\\") {
		return "", unsafeEntry(n, "has a NUL or backslash in its name")
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// extract writes one tar stream (one layer) into the root.
func (u *unpacker) extract(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		u.count++
		if u.count > u.limits.MaxEntries {
			return fmt.Errorf("%w: more than %d entries", ErrUnsafeArchive, u.limits.MaxEntries)
		}
		name, err := cleanEntryName(hdr.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue
		}
		if done, err := u.whiteout(name); err != nil {
			return err
		} else if done {
			continue
		}
		if err := u.entry(tr, hdr, name); err != nil {
			return err
		}
	}
}

// whiteout applies OCI layer deletions (".wh.<name>", ".wh..wh..opq").
func (u *unpacker) whiteout(name string) (bool, error) {
	dir, base := path.Split(name)
	if !strings.HasPrefix(base, ".wh.") {
		return false, nil
	}
	if base == ".wh..wh..opq" {
		entries, err := fs.ReadDir(u.root.FS(), path.Clean("./"+dir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return true, fmt.Errorf("applying %s: %w", name, err)
		}
		for _, e := range entries {
			if err := u.root.RemoveAll(path.Join(dir, e.Name())); err != nil {
				return true, fmt.Errorf("applying %s: %w", name, err)
			}
		}
		return true, nil
	}
	if err := u.root.RemoveAll(path.Join(dir, strings.TrimPrefix(base, ".wh."))); err != nil {
		return true, fmt.Errorf("applying %s: %w", name, err)
	}
	return true, nil
}

func (u *unpacker) entry(tr *tar.Reader, hdr *tar.Header, name string) error {
	if dir := path.Dir(name); dir != "." {
		if err := u.root.MkdirAll(dir, 0o755); err != nil {
			return unsafeEntry(hdr.Name, "cannot be placed: %v", err)
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := u.root.MkdirAll(name, 0o755); err != nil {
			return unsafeEntry(hdr.Name, "cannot be created: %v", err)
		}
		return nil
	case tar.TypeReg:
		return u.file(tr, hdr, name)
	case tar.TypeSymlink:
		target := hdr.Linkname
		if target == "" || path.IsAbs(target) || filepath.IsAbs(target) {
			return unsafeEntry(hdr.Name, "is a symlink to absolute path %q", target)
		}
		if !isLocalLink(name, target) {
			return unsafeEntry(hdr.Name, "is a symlink pointing outside the target (%q)", target)
		}
		if err := u.replace(name); err != nil {
			return err
		}
		if err := u.root.Symlink(target, name); err != nil {
			return unsafeEntry(hdr.Name, "symlink cannot be created: %v", err)
		}
		return nil
	case tar.TypeLink:
		target, err := cleanEntryName(hdr.Linkname)
		if err != nil || target == "" {
			return unsafeEntry(hdr.Name, "is a hard link pointing outside the target (%q)", hdr.Linkname)
		}
		fi, err := u.root.Lstat(target)
		if err != nil || !fi.Mode().IsRegular() {
			return unsafeEntry(hdr.Name, "is a hard link to %q, which is not a regular file extracted before it", hdr.Linkname)
		}
		if err := u.replace(name); err != nil {
			return err
		}
		if err := u.root.Link(target, name); err != nil {
			return unsafeEntry(hdr.Name, "hard link cannot be created: %v", err)
		}
		return nil
	case tar.TypeChar, tar.TypeBlock:
		return unsafeEntry(hdr.Name, "is a device file")
	case tar.TypeFifo:
		return unsafeEntry(hdr.Name, "is a FIFO")
	default:
		return unsafeEntry(hdr.Name, "has unsupported type %q", string(hdr.Typeflag))
	}
}

func (u *unpacker) file(tr *tar.Reader, hdr *tar.Header, name string) error {
	if hdr.Size > u.limits.MaxFileSize {
		return unsafeEntry(hdr.Name, "is %d bytes, over the per-file limit of %d", hdr.Size, u.limits.MaxFileSize)
	}
	if u.total+hdr.Size > u.limits.MaxTotalSize {
		return unsafeEntry(hdr.Name, "brings the archive over the total limit of %d bytes", u.limits.MaxTotalSize)
	}
	u.total += hdr.Size
	if err := u.replace(name); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		mode = 0o755
	}
	f, err := u.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return unsafeEntry(hdr.Name, "cannot be written: %v", err)
	}
	_, err = io.Copy(f, io.LimitReader(tr, hdr.Size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing entry %q: %w", hdr.Name, err)
	}
	return u.root.Chmod(name, mode)
}

// replace removes a non-directory already at name (a later layer wins).
func (u *unpacker) replace(name string) error {
	fi, err := u.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return unsafeEntry(name, "cannot be placed: %v", err)
	}
	if fi.IsDir() {
		return unsafeEntry(name, "would replace a directory")
	}
	return u.root.Remove(name)
}

// UnpackOptions tune UnpackTars.
type UnpackOptions struct {
	Limits UnpackLimits
	// Marker is written to PullMarkerPath(dest) once the tree is in place.
	Marker PullMarker
	// Force replaces a non-empty directory deckhand did not pull.
	Force bool
}

// UnpackTars extracts the tar streams in order (image layers, lowest first)
// into dest. It writes a sibling temp directory and swaps it in with one
// rename, so dest is either the old complete tree or the new one; on any
// error dest is untouched. An existing dest is replaced only if it is empty
// or its marker names it (a tree deckhand pulled), or with opts.Force;
// otherwise the error is a *NotPulledError and nothing is downloaded.
func UnpackTars(dest string, opts UnpackOptions, layers func(yield func(io.Reader) error) error) (err error) {
	dest, err = filepath.Abs(dest)
	if err != nil {
		return fmt.Errorf("unpack target: %w", err)
	}
	if err := checkReplaceable(dest, opts.Force); err != nil {
		return err
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".unpack-")
	if err != nil {
		return fmt.Errorf("creating temp dir next to %s: %w", dest, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(tmp)
	if err != nil {
		return err
	}
	u := &unpacker{root: root, limits: opts.Limits.withDefaults()}
	err = layers(u.extract)
	if cerr := root.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("unpacking into %s: %w", dest, err)
	}
	// Checked again: dest may have changed while the layers were downloaded.
	if err := checkReplaceable(dest, opts.Force); err != nil {
		return err
	}
	commitMarker, abortMarker, err := stageMarker(tmp, dest, opts.Marker)
	if err != nil {
		return err
	}
	if err := swapDir(tmp, dest); err != nil {
		abortMarker()
		return err
	}
	commitMarker()
	return nil
}

// swapDir moves the finished tmp to dest atomically (an exchange on Linux,
// two renames elsewhere or where the filesystem cannot exchange) and removes
// the old tree.
func swapDir(tmp, dest string) error {
	return swapDirWith(tmp, dest, exchangeDirs, os.RemoveAll)
}

// swapDirWith is swapDir with the exchange and the removal of the old tree
// given. Once the new tree is in place the swap has succeeded: failing to
// remove the old tree is logged, not returned, so callers never report a
// failure for a target that was in fact replaced.
func swapDirWith(tmp, dest string, exchange func(a, b string) error, removeAll func(string) error) error {
	fi, err := os.Lstat(dest)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, dest); err != nil {
			return fmt.Errorf("moving %s to %s: %w", tmp, dest, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", dest, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", dest)
	}
	old := tmp // after an exchange tmp holds the previous tree
	if err := exchange(tmp, dest); err != nil {
		// No exchange: two renames, old tree kept aside until the new one is in.
		old = tmp + ".old"
		if err := os.Rename(dest, old); err != nil {
			return fmt.Errorf("moving old %s aside: %w", dest, err)
		}
		if err := os.Rename(tmp, dest); err != nil {
			if rerr := os.Rename(old, dest); rerr != nil {
				return fmt.Errorf("moving %s to %s: %w (the previous tree is left at %s: %w)", tmp, dest, err, old, rerr)
			}
			return fmt.Errorf("moving %s to %s: %w", tmp, dest, err)
		}
	}
	if err := removeAll(old); err != nil {
		slog.Warn("the new tree is in place but the previous one could not be removed", "dir", dest, "leftover", old, "err", err)
	}
	return nil
}
