package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
)

// A pull records itself in a marker file next to the tree it wrote (see
// PullMarkerPath), so the tree stays exactly the image's content. A non-empty
// directory without a marker that names it is not replaced unless forced: a
// pull into a checkout of the module (or into $HOME) cannot delete the user's
// files.
const pullMarkerSuffix = ".deckhand-pull.json"

// PullMarkerPath is the marker of the tree at dir: ".<base>.deckhand-pull.json"
// in dir's parent.
func PullMarkerPath(dir string) string {
	dir = filepath.Clean(dir)
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+pullMarkerSuffix)
}

// PullMarker is the content of a marker: where the tree came from, and which
// directory it was written for (so a stale marker, left after the tree was
// deleted and the name reused, does not make another directory replaceable).
type PullMarker struct {
	Source  string `json:"source,omitempty"`
	Module  string `json:"module,omitempty"`
	Version string `json:"version,omitempty"`
	Digest  string `json:"digest,omitempty"`
	// DirID identifies the directory written (device:inode where the OS has
	// them) and Entries are its top-level names: both must still match for
	// the marker to count (inode numbers alone are reused at once).
	DirID   string   `json:"dirID,omitempty"`
	Entries []string `json:"entries,omitempty"`
}

// describes reports whether m is the marker of the directory dir (fi its Lstat): same
// identity, and every top-level entry the pull wrote is still there.
func (m *PullMarker) describes(dir string, fi fs.FileInfo) bool {
	if m.DirID != dirID(fi) {
		return false
	}
	for _, e := range m.Entries {
		if _, err := os.Lstat(filepath.Join(dir, e)); err != nil {
			return false
		}
	}
	return true
}

// NotPulledError refuses to replace a non-empty directory that deckhand did
// not pull.
type NotPulledError struct {
	Dir string
	// Holds names one entry found there.
	Holds string
}

func (e *NotPulledError) Error() string {
	return fmt.Sprintf("%s is not a directory deckhand pulled (it holds %s and %s does not name it)", e.Dir, e.Holds, PullMarkerPath(e.Dir))
}

// ReadPullMarker reads the marker of the tree at dir.
func ReadPullMarker(dir string) (*PullMarker, error) {
	p := PullMarkerPath(dir)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	var m PullMarker
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &m, nil
}

// checkReplaceable refuses a dest that UnpackTars must not replace: anything
// but a directory, the filesystem root, and (unless force) a non-empty
// directory whose marker is missing or names another directory.
func checkReplaceable(dest string, force bool) error {
	if filepath.Dir(dest) == dest {
		return fmt.Errorf("refusing to replace %s", dest)
	}
	fi, err := os.Lstat(dest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", dest, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", dest)
	}
	if force {
		return nil
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return fmt.Errorf("reading %s: %w", dest, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if m, err := ReadPullMarker(dest); err == nil && m.describes(dest, fi) {
		return nil
	}
	return &NotPulledError{Dir: dest, Holds: entries[0].Name()}
}

// stageMarker writes m for the tree at tmp into a temp file next to dest's
// marker, before the swap, so that a full disk fails the pull and not the
// step after it. The returned commit moves it in place (after the swap);
// abort removes it.
func stageMarker(tmp, dest string, m PullMarker) (commit func(), abort func(), err error) {
	fi, err := os.Stat(tmp)
	if err != nil {
		return nil, nil, err
	}
	m.DirID = dirID(fi)
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, nil, err
	}
	m.Entries = nil
	for _, e := range entries {
		m.Entries = append(m.Entries, e.Name())
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	final := PullMarkerPath(dest)
	f, err := os.CreateTemp(filepath.Dir(final), filepath.Base(final)+".tmp-")
	if err != nil {
		return nil, nil, fmt.Errorf("writing pull marker for %s: %w", dest, err)
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return nil, nil, fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	commit = func() {
		if err := os.Rename(f.Name(), final); err != nil {
			_ = os.Remove(f.Name())
			slog.Warn("the tree is in place but its pull marker could not be written; a later pull will need force", "dir", dest, "err", err)
		}
	}
	abort = func() { _ = os.Remove(f.Name()) }
	return commit, abort, nil
}
