package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// PullMarkerFile is written at the root of every tree UnpackTars creates. A
// non-empty directory without it is not replaced unless forced, so a pull
// into a checkout of the module (or into $HOME) cannot delete the user's
// files. It lives inside the tree so it moves and disappears with it.
const PullMarkerFile = ".deckhand-pull.json"

// PullMarker is the content of PullMarkerFile: where the tree came from.
type PullMarker struct {
	Source  string `json:"source,omitempty"`
	Module  string `json:"module,omitempty"`
	Version string `json:"version,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// NotPulledError refuses to replace a non-empty directory that has no
// PullMarkerFile.
type NotPulledError struct {
	Dir string
	// Holds names one entry found there.
	Holds string
}

func (e *NotPulledError) Error() string {
	return fmt.Sprintf("%s is not a directory deckhand pulled (it holds %s and no %s)", e.Dir, e.Holds, PullMarkerFile)
}

// ReadPullMarker reads the marker of a pulled tree.
func ReadPullMarker(dir string) (*PullMarker, error) {
	p := filepath.Join(dir, PullMarkerFile)
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
// directory without the marker.
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
	for _, e := range entries {
		if e.Name() == PullMarkerFile && e.Type().IsRegular() {
			return nil
		}
	}
	return &NotPulledError{Dir: dest, Holds: entries[0].Name()}
}

// writeMarker records m at the root of the unpacked tree (replacing any file
// of that name the archive brought).
func (u *unpacker) writeMarker(m PullMarker) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := u.replace(PullMarkerFile); err != nil {
		return err
	}
	if err := u.root.WriteFile(PullMarkerFile, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", PullMarkerFile, err)
	}
	return nil
}
