package module

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/hook"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// dirNameRe splits a modules-directory entry into its optional numeric
// prefix (the weight) and the module name (addon-operator's rule).
var dirNameRe = regexp.MustCompile(`^(([0-9]+)-)?(.+)$`)

// SplitDirName splits a modules-directory entry name ("001-echo-server")
// into the module name it implies ("echo-server") and its numeric prefix,
// the weight (ok false when there is none or it does not fit a uint32).
func SplitDirName(base string) (name string, weight uint32, ok bool) {
	parts := dirNameRe.FindStringSubmatch(base)
	if parts == nil { // only for ""
		return base, 0, false
	}
	if parts[2] == "" {
		return parts[3], 0, false
	}
	w, err := strconv.ParseUint(parts[2], 10, 32)
	if err != nil {
		return parts[3], 0, false
	}
	return parts[3], uint32(w), true
}

// loadMode is how much of a module a load insists on.
type loadMode int

const (
	// loadStrict is Load: every module.yaml rule, as publishing and
	// rendering need.
	loadStrict loadMode = iota
	// loadLenient is LoadLenient: module.yaml problems are left to the
	// linter, which reports them all.
	loadLenient
	// loadRuntime is LoadRuntime: only what running the module relies on.
	loadRuntime
)

// Load reads the module in dir. It fails, naming the file and field, when
// module.yaml, the schemas or values.yaml are malformed or the name is
// unusable. module.yaml is held to every rule ParseDefinition checks; the
// developer verbs (render, build, publish, test) load this way.
func Load(dir string) (*Module, error) { return load(dir, loadStrict, newOptions(nil)) }

// LoadLenient is Load that keeps going past module.yaml problems (the
// linter reports them itself) and schema problems, so the rest of the module
// is still checked. It can return both a module and an error: the error then
// holds the schema problems, and m.Schemas is nil when no schema could be
// built (a schema that fails only the meta-schema check is still used).
func LoadLenient(dir string) (*Module, error) { return load(dir, loadLenient, newOptions(nil)) }

// LoadRuntime reads the module in dir for running it: module.yaml must
// parse and its name (when set) must be usable, but the rules only the
// linter cares about (stage, editions, bundles, update versions,
// requirement constraints) do not stop a module from running, and
// NonExecutableHooks is not looked for. Discover loads this way.
func LoadRuntime(dir string, opts ...Option) (*Module, error) {
	return load(dir, loadRuntime, newOptions(opts))
}

func load(dir string, mode loadMode, o options) (*Module, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("module directory %s: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("module directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("module directory %s is not a directory", abs)
	}
	m := &Module{Dir: abs, Weight: o.defaultWeight}
	name, weight, numbered := SplitDirName(filepath.Base(abs))
	m.Name = name
	if numbered {
		m.Weight = weight
	}
	if o.name != "" {
		m.Name = o.name
	}
	if err := readDefinition(m, mode); err != nil {
		return nil, err
	}
	if m.ValuesKey, err = values.ModuleKey(m.Name); err != nil {
		return nil, &FileError{File: filepath.Base(abs), Field: "name", Err: err}
	}
	m.HasChartFile = exists(filepath.Join(abs, "Chart.yaml"))
	if m.HasChartFile {
		if err := checkChartFile(filepath.Join(abs, "Chart.yaml")); err != nil {
			return nil, err
		}
	}
	m.HasChart = m.HasChartFile || isDir(filepath.Join(abs, "templates"))
	// A lenient load reports schema problems with the module instead of
	// stopping at them, so the linter still checks everything else; m.Schemas
	// is nil only when the schemas could not be built at all.
	var schemaErr error
	if mode == loadLenient {
		m.Schemas, err = values.LoadSchemasLenient(filepath.Join(abs, "openapi"))
		schemaErr = relativize(abs, err)
	} else if m.Schemas, err = values.LoadSchemas(filepath.Join(abs, "openapi")); err != nil {
		return nil, relativize(abs, err)
	}
	if data, err := os.ReadFile(filepath.Join(abs, "values.yaml")); err == nil {
		m.StaticValues = map[string]any{}
		if err := yaml.Unmarshal(data, &m.StaticValues); err != nil {
			return nil, &FileError{File: "values.yaml", Err: fmt.Errorf("parsing YAML: %w", err)}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading values.yaml: %w", err)
	}
	if isDir(filepath.Join(abs, "hooks")) {
		m.HooksDir = filepath.Join(abs, "hooks")
		if m.Hooks, err = findHooks(abs); err != nil {
			return nil, err
		}
		if mode != loadRuntime {
			if m.NonExecutableHooks, err = findNonExecutable(abs); err != nil {
				return nil, err
			}
		}
	}
	if m.CRDs, err = findCRDs(abs); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(filepath.Join(abs, "enabled")); err == nil && fi.Mode().IsRegular() {
		m.EnabledScript = filepath.Join(abs, "enabled")
	}
	return m, schemaErr
}

// readDefinition reads module.yaml, when there is one, into m: the
// definition, the name and the weight, each only when set.
func readDefinition(m *Module, mode loadMode) error {
	data, err := os.ReadFile(filepath.Join(m.Dir, DefinitionFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", DefinitionFile, err)
	}
	var def *Definition
	var doc *Document
	switch mode {
	case loadRuntime:
		if def, doc, err = parseRuntimeDefinition(DefinitionFile, data); err != nil {
			return err
		}
	default:
		def, doc, err = ParseDefinition(DefinitionFile, data)
		if err != nil && (mode == loadStrict || def == nil) {
			return err
		}
	}
	m.Definition, m.DefinitionDoc = def, doc
	if _, keyErr := values.ModuleKey(def.Name); keyErr == nil {
		m.Name = def.Name
	}
	if def.Weight != nil {
		m.Weight = *def.Weight
	}
	return nil
}

func checkChartFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading Chart.yaml: %w", err)
	}
	var meta struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		return &FileError{File: "Chart.yaml", Err: fmt.Errorf("parsing YAML: %w", err)}
	}
	if meta.Name == "" {
		return &FileError{File: "Chart.yaml", Field: "name", Err: errors.New("is required")}
	}
	if meta.Version == "" {
		return &FileError{File: "Chart.yaml", Field: "version", Err: errors.New("is required")}
	}
	return nil
}

// HookConfigTimeout bounds one `<hook> --config` run.
const HookConfigTimeout = 20 * time.Second

// HookDiscovery are the options module hooks are discovered with (the
// runtime's own, so lint sees the hooks the runtime runs).
func HookDiscovery() hook.DiscoverOptions {
	return hook.DiscoverOptions{
		Kind:          hook.KindModule,
		ExcludeDirs:   []string{"venv"},
		ConfigTimeout: HookConfigTimeout,
		Logger:        slog.New(slog.DiscardHandler),
	}
}

// findHooks lists hooks with the runtime's own discovery (hook.FindHooks).
func findHooks(dir string) ([]string, error) {
	root := filepath.Join(dir, "hooks")
	paths, err := hook.FindHooks(root, HookDiscovery())
	if err != nil {
		return nil, err
	}
	resolved, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("hooks dir %s: %w", root, err)
	}
	hooks := make([]string, 0, len(paths))
	for _, p := range paths {
		rel, err := filepath.Rel(resolved, p)
		if err != nil {
			return nil, err
		}
		hooks = append(hooks, "hooks/"+filepath.ToSlash(rel))
	}
	return hooks, nil
}

// findNonExecutable lists the scripts under hooks/ that hook.FindHooks
// skips for lack of an execute bit.
func findNonExecutable(dir string) ([]string, error) {
	root := filepath.Join(dir, "hooks")
	var nonExec []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || name == "lib" || name == "venv") {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 == 0 && !strings.HasPrefix(name, ".") && hasShebang(path) {
			rel, _ := filepath.Rel(dir, path)
			nonExec = append(nonExec, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing hooks in %s: %w", root, err)
	}
	sort.Strings(nonExec)
	return nonExec, nil
}

func hasShebang(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	buf := make([]byte, 2)
	n, _ := f.Read(buf)
	return n == 2 && string(buf) == "#!"
}

func findCRDs(dir string) ([]string, error) {
	root := filepath.Join(dir, "crds")
	if !exists(root) {
		return nil, nil
	}
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := strings.ToLower(filepath.Ext(path))
		if (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(d.Name(), "doc-ru-") {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing CRDs in %s: %w", root, err)
	}
	sort.Strings(out)
	return out, nil
}

// relativize rewrites schema errors to name files relative to the module dir.
func relativize(dir string, err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, relativize(dir, e))
		}
		return errors.Join(out...)
	}
	var se *values.SchemaError
	if errors.As(err, &se) {
		if rel, rerr := filepath.Rel(dir, se.File); rerr == nil {
			cp := *se
			cp.File = filepath.ToSlash(rel)
			return &cp
		}
	}
	return err
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
