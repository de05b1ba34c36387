package module

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// CommonValuesFile is a modules directory's values.yaml: a <moduleKey>
// section per module (with <moduleKey>Enabled flags) and a "global" section,
// shared by the modules of that directory (addon-operator's
// $MODULES_DIR/values.yaml).
const CommonValuesFile = "values.yaml"

// Set is the modules found in some modules directories.
type Set struct {
	// Modules are the loaded modules, in directory order, then entry name order.
	Modules []*Module
	// Dirs are the modules directories that could be read, in the order given.
	Dirs []ModulesDir
	// Common is the values.yaml document of each module's modules directory,
	// by module Dir (nil when that directory has none).
	Common map[string]map[string]any
}

// ModulesDir is one modules directory and its common values.yaml.
type ModulesDir struct {
	// Path is the directory as given.
	Path string
	// Values is its values.yaml document; nil when it has none.
	Values map[string]any
}

// GlobalStatic is the "global" sections of the modules directories'
// values.yaml merged in directory order (a later directory's keys win).
func (s *Set) GlobalStatic() map[string]any {
	out := map[string]any{}
	for _, d := range s.Dirs {
		if sec, ok := d.Values[values.GlobalKey].(map[string]any); ok {
			out = values.Merge(out, sec)
		}
	}
	return out
}

// DiscoverError is a module directory that could not be loaded; the other
// modules are unaffected.
type DiscoverError struct {
	// Dir is the module directory (inside its modules directory, as listed).
	Dir string
	Err error
}

func (e *DiscoverError) Error() string { return "module " + e.Dir + ": " + e.Err.Error() }
func (e *DiscoverError) Unwrap() error { return e.Err }

// Option is a rarely needed knob of LoadRuntime and Discover.
type Option func(*options)

type options struct {
	defaultWeight uint32
	name          string
}

func newOptions(opts []Option) options {
	o := options{defaultWeight: DefaultWeight}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithDefaultWeight sets the weight of a module with neither a module.yaml
// weight nor a numeric directory prefix (DefaultWeight, 900, otherwise;
// addon-operator's ADDON_OPERATOR_UNNUMBERED_MODULES_ORDER defaults to 1).
func WithDefaultWeight(w uint32) Option {
	return func(o *options) { o.defaultWeight = w }
}

// WithName names a module whose module.yaml has no name, instead of its
// directory: a downloaded module lives in a directory named after its
// version (<downloaded>/<module>/vX.Y.Z).
func WithName(name string) Option {
	return func(o *options) { o.name = name }
}

// Discover finds the modules of several modules directories the way
// addon-operator reads MODULES_DIR. Every entry of a directory that is a
// directory, or a symlink to one, is a module named `NNN-name` or `name`
// (`^(([0-9]+)-)?(.+)$`), loaded with LoadRuntime; hidden entries and files
// are skipped. A module's name is module.yaml name, else the entry name
// without its prefix, and must round-trip through its camelCase values key.
// Its weight is module.yaml weight, else the NNN prefix, else the default
// weight (DefaultWeight, or WithDefaultWeight's).
//
// Each directory's values.yaml (CommonValuesFile) is read too. A module
// name seen twice is a DiscoverError naming both paths; the first one wins.
// A module that fails to load is a DiscoverError naming its directory, and
// the other modules are still returned; so is an unreadable modules
// directory or values.yaml (an error naming it).
func Discover(dirs []string, opts ...Option) (*Set, []error) {
	o := newOptions(opts)
	set := &Set{Common: map[string]map[string]any{}}
	var errs []error
	seen := map[string]string{}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("modules directory %s: %w", dir, err))
			continue
		}
		common, err := readCommonValues(dir)
		if err != nil {
			errs = append(errs, err)
		}
		set.Dirs = append(set.Dirs, ModulesDir{Path: dir, Values: common})
		// os.ReadDir sorts by name.
		for _, e := range entries {
			name := e.Name()
			if name[0] == '.' {
				continue
			}
			path := filepath.Join(dir, name)
			if fi, err := os.Stat(path); err != nil || !fi.IsDir() { // follows symlinks
				continue
			}
			m, err := load(path, loadRuntime, options{defaultWeight: o.defaultWeight})
			if err != nil {
				errs = append(errs, &DiscoverError{Dir: path, Err: err})
				continue
			}
			if first, dup := seen[m.Name]; dup {
				errs = append(errs, &DiscoverError{Dir: path, Err: fmt.Errorf("module %q is also in %s; the first one is used", m.Name, first)})
				continue
			}
			seen[m.Name] = path
			set.Modules = append(set.Modules, m)
			set.Common[m.Dir] = common
		}
	}
	return set, errs
}

func readCommonValues(dir string) (map[string]any, error) {
	file := filepath.Join(dir, CommonValuesFile)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("modules directory %s: %w", dir, err)
	}
	doc := map[string]any{}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &FileError{File: file, Err: fmt.Errorf("parsing YAML: %w", err)}
	}
	return doc, nil
}
