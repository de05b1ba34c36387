package module

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"sigs.k8s.io/yaml"
)

// CommonValuesFile is a modules directory's values.yaml: a <moduleKey>
// section per module (with <moduleKey>Enabled flags) and a "global" section,
// shared by the modules of that directory (addon-operator's
// $MODULES_DIR/values.yaml).
const CommonValuesFile = "values.yaml"

// Set is the modules found in some modules directories.
type Set struct {
	// Modules are the loaded modules, in directory order, then name order.
	Modules []*Module
	// Common is the values.yaml document of each module's directory, by
	// module Dir (nil when the directory has none).
	Common map[string]map[string]any
}

// DiscoverError is a module directory that could not be loaded; the other
// modules are unaffected.
type DiscoverError struct {
	Dir string
	Err error
}

func (e *DiscoverError) Error() string { return "module " + e.Dir + ": " + e.Err.Error() }
func (e *DiscoverError) Unwrap() error { return e.Err }

// Discover finds the modules of several modules directories the way
// addon-operator reads MODULES_DIR: every subdirectory (symlinks to
// directories followed) named `NNN-name` or `name` is a module, loaded with
// Load; hidden entries are skipped. A module name seen twice is an error
// naming both paths; the first one wins. A broken module is reported and
// the others are returned. Weights come from module.yaml `weight`, else the
// NNN prefix, else DefaultWeight (DKP's default for a module without one).
func Discover(dirs []string) (*Set, []error) {
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
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, name := range names {
			if name == "" || name[0] == '.' {
				continue
			}
			path := filepath.Join(dir, name)
			fi, err := os.Stat(path) // follows symlinks
			if err != nil || !fi.IsDir() {
				continue
			}
			m, err := Load(path)
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
	data, err := os.ReadFile(filepath.Join(dir, CommonValuesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("modules directory %s: %w", dir, err)
	}
	doc := map[string]any{}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &FileError{File: filepath.Join(dir, CommonValuesFile), Err: fmt.Errorf("parsing YAML: %w", err)}
	}
	return doc, nil
}

// HasChart reports whether the module is a Helm chart (Chart.yaml or
// templates/); addon-operator skips the Helm step of other modules.
func (m *Module) HasChart() bool {
	return m.HasChartFile || exists(filepath.Join(m.Dir, "templates"))
}

// HasHooksDir reports whether the module has a hooks/ directory.
func (m *Module) HasHooksDir() bool { return exists(filepath.Join(m.Dir, "hooks")) }
