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

// Module is a module directory as the runtime sees it.
type Module struct {
	// Dir is the absolute module directory.
	Dir string
	// Name is the kebab-case module name (module.yaml name, else the directory
	// name without its numeric prefix).
	Name string
	// ValuesKey is the camelCase values section ("echoServer").
	ValuesKey string
	// Weight orders module starts (module.yaml weight, else the directory's
	// numeric prefix, else DefaultWeight).
	Weight uint32
	// Definition is module.yaml; nil when the module has none.
	Definition *Definition
	// DefinitionDoc keeps module.yaml positions for messages.
	DefinitionDoc *Document
	// HasChartFile is false when Chart.yaml is absent (one is generated for rendering).
	HasChartFile bool
	// Schemas are the openapi/ schemas (never nil; fields nil when files are absent).
	Schemas *values.Schemas
	// StaticValues is the module's values.yaml (the whole document).
	StaticValues map[string]any
	// Hooks are executable hook files, relative to Dir ("hooks/hello.sh"), sorted.
	Hooks []string
	// NonExecutableHooks are files under hooks/ that start with "#!" but lack an execute bit.
	NonExecutableHooks []string
	// CRDs are YAML files under crds/, relative to Dir (doc-ru-* overlays excluded).
	CRDs []string
	// EnabledScript is true when the module has an `enabled` script.
	EnabledScript bool
}

var dirNameRe = regexp.MustCompile(`^(([0-9]+)-)?(.+)$`)

// Load reads the module in dir. It fails, naming the file and field, when
// module.yaml, the schemas or values.yaml are malformed or the name is unusable.
func Load(dir string) (*Module, error) { return load(dir, true) }

// LoadLenient is Load that keeps going past module.yaml problems (the
// linter reports them itself), so the rest of the module is still checked.
func LoadLenient(dir string) (*Module, error) { return load(dir, false) }

func load(dir string, strict bool) (*Module, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("module directory %s: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("module directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("module directory %s is not a directory", abs)
	}
	m := &Module{Dir: abs, Weight: DefaultWeight}
	parts := dirNameRe.FindStringSubmatch(filepath.Base(abs))
	m.Name = parts[3]
	if parts[2] != "" {
		if w, err := strconv.ParseUint(parts[2], 10, 32); err == nil {
			m.Weight = uint32(w)
		}
	}
	if data, err := os.ReadFile(filepath.Join(abs, DefinitionFile)); err == nil {
		def, doc, err := ParseDefinition(DefinitionFile, data)
		if err != nil && (strict || def == nil) {
			return nil, err
		}
		m.Definition, m.DefinitionDoc = def, doc
		if _, keyErr := values.ModuleKey(def.Name); keyErr == nil {
			m.Name = def.Name
		}
		if def.Weight != nil {
			m.Weight = *def.Weight
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", DefinitionFile, err)
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
	if m.Schemas, err = values.LoadSchemas(filepath.Join(abs, "openapi")); err != nil {
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
	if m.Hooks, m.NonExecutableHooks, err = findHooks(abs); err != nil {
		return nil, err
	}
	if m.CRDs, err = findCRDs(abs); err != nil {
		return nil, err
	}
	m.EnabledScript = exists(filepath.Join(abs, "enabled"))
	return m, nil
}

// Namespace is where the module's release goes: module.yaml namespace, else
// d8-system (addon-operator's own namespace, where DKP installs releases).
func (m *Module) Namespace() string {
	if m.Definition != nil && m.Definition.Namespace != "" {
		return m.Definition.Namespace
	}
	return "d8-system"
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

// findHooks lists hooks with the runtime's own discovery (hook.FindHooks), and
// separately the scripts it would skip for lack of an execute bit.
func findHooks(dir string) (hooks, nonExec []string, err error) {
	root := filepath.Join(dir, "hooks")
	if !exists(root) {
		return nil, nil, nil
	}
	paths, err := hook.FindHooks(root, HookDiscovery())
	if err != nil {
		return nil, nil, err
	}
	resolved, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, fmt.Errorf("hooks dir %s: %w", root, err)
	}
	for _, p := range paths {
		rel, err := filepath.Rel(resolved, p)
		if err != nil {
			return nil, nil, err
		}
		hooks = append(hooks, "hooks/"+filepath.ToSlash(rel))
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
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
		return nil, nil, fmt.Errorf("listing hooks in %s: %w", root, err)
	}
	sort.Strings(nonExec)
	return hooks, nonExec, nil
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
