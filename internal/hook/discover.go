package hook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// DiscoverOptions tune Discover.
type DiscoverOptions struct {
	// Kind selects the lifecycle bindings hooks may declare.
	Kind Kind
	// ExcludeDirs are directory names skipped at any depth, in addition to
	// "lib" and hidden directories (addon-operator adds "venv").
	ExcludeDirs []string
	// Env is appended to os.Environ() for the --config runs.
	Env []string
	// ConfigTimeout bounds one --config run; 0 means one minute.
	ConfigTimeout time.Duration
	// Logger gets skipped-file warnings; nil means slog.Default().
	Logger *slog.Logger
}

// HookError is a hook that could not be loaded.
type HookError struct {
	// Hook is the hook's path as shown to users ("hooks/a.sh").
	Hook string
	Err  error
}

func (e *HookError) Error() string {
	// FieldErrors already name the hook.
	var fe *FieldError
	if errors.As(e.Err, &fe) {
		return e.Err.Error()
	}
	return e.Hook + ": " + e.Err.Error()
}

func (e *HookError) Unwrap() error { return e.Err }

// ignoredExtensions are never hooks, even when executable.
var ignoredExtensions = []string{".yaml", ".json", ".md", ".txt"}

// FindHooks lists the hook executables under dir the way shell-operator
// does: a recursive walk, skipping hidden entries, "lib" directories,
// opts.ExcludeDirs and, for module hooks, "venv" directories, files with a .yaml/.json/.md/.txt extension, and files
// without any executable bit (with a warning). Executables inside <dir>/lib
// are reported with a warning. Paths are returned sorted, absolute.
func FindHooks(dir string, opts DiscoverOptions) ([]string, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	root, err := hooksRoot(dir)
	if err != nil {
		return nil, err
	}
	excluded := append([]string{"lib"}, opts.ExcludeDirs...)
	if opts.Kind == KindModule {
		// A module's Python venv sits in its hooks dir (addon-operator).
		excluded = append(excluded, PythonVenvDir)
	}
	var paths []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || slices.Contains(excluded, name)) {
				if name == "lib" && filepath.Dir(path) == root {
					warnLibExecutables(path, logger)
				}
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".") || slices.Contains(ignoredExtensions, filepath.Ext(name)) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode()&0o111 == 0 {
			logger.Warn("file is skipped: no executable permissions, chmod +x is required to run this hook",
				slog.String("path", path))
			return nil
		}
		paths = append(paths, path)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing hooks in %s: %w", dir, err)
	}
	sort.Strings(paths)
	return paths, nil
}

// hooksRoot is the absolute hooks dir with symlinks resolved, so a
// symlinked hooks dir is walked like a real one.
func hooksRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("hooks dir %s: %w", dir, err)
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("hooks dir %s: %w", dir, err)
	}
	return root, nil
}

func warnLibExecutables(lib string, logger *slog.Logger) {
	_ = filepath.WalkDir(lib, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if path != lib && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 && !strings.HasPrefix(d.Name(), ".") {
			logger.Warn("file has executable permissions and is located in the ignored 'lib' directory",
				slog.String("path", path))
		}
		return nil
	})
}

// Discover finds the hooks under dir and loads each one's configuration by
// running it with --config (working directory dir, the operator's
// environment); for module hooks it expands module-sdk bundles and runs
// *.py hooks with the module's venv (see LoadHooks). A hook that fails to
// load does not stop the others: the loaded hooks come back sorted by path
// (a bundle's hooks in index order) together with one *HookError per broken
// hook or bundle. err is only set
// when dir itself cannot be listed.
func Discover(ctx context.Context, dir string, opts DiscoverOptions) (hooks []*Hook, hookErrs []error, err error) {
	paths, err := FindHooks(dir, opts)
	if err != nil {
		return nil, nil, err
	}
	root, err := hooksRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, path := range paths {
		if ctx.Err() != nil {
			return hooks, hookErrs, ctx.Err()
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return nil, nil, err
		}
		name := filepath.ToSlash(rel)
		// Errors name the hook as the user wrote the dir, not its symlink target.
		display := filepath.ToSlash(filepath.Join(filepath.Base(filepath.Clean(dir)), rel))
		hs, err := LoadHooks(ctx, root, path, name, display, opts)
		if err != nil {
			hookErrs = append(hookErrs, err)
			continue
		}
		hooks = append(hooks, hs...)
	}
	return hooks, hookErrs, nil
}

// LoadHooks loads the hooks of one executable. For module hooks
// (opts.Kind == KindModule), an executable without extension that answers
// `hook list` with "Found N items" is a module-sdk bundle: its `hook
// config` is parsed (ParseBatchConfig) and each entry becomes a Hook named
// "<name>:<metadata.name>:<index>" that runs as `path hook run <index>`.
// Any other file is loaded with LoadHook. Errors are *HookError naming the
// hook or bundle.
func LoadHooks(ctx context.Context, workDir, path, name, display string, opts DiscoverOptions) ([]*Hook, error) {
	if opts.Kind == KindModule && filepath.Ext(path) == "" {
		count, ok := probeBundle(ctx, workDir, path, opts)
		if ok {
			return loadBundle(ctx, workDir, path, name, display, count, opts)
		}
	}
	h, err := LoadHook(ctx, workDir, path, name, display, opts)
	if err != nil {
		return nil, err
	}
	return []*Hook{h}, nil
}

// LoadHook runs the executable at path with --config in workDir and parses
// its output. name becomes Hook.Name; display names the hook in errors.
// A module's *.py hook runs with the Python of workDir/venv when that
// exists (see PythonVenv), for --config and for every run. It never treats
// path as a module-sdk bundle: LoadHooks does. Errors are *HookError.
func LoadHook(ctx context.Context, workDir, path, name, display string, opts DiscoverOptions) (*Hook, error) {
	h := &Hook{Name: name, Path: path}
	if opts.Kind == KindModule && filepath.Ext(path) == ".py" {
		if venv := PythonVenv(workDir); venv != "" {
			h.Interpreter = filepath.Join(venv, pythonBinary)
			h.Env = []string{EnvPythonHome + "=" + venv}
		} else {
			opts.logger().Debug("python hook runs without a venv", slog.String("hook", display),
				slog.String("venv", filepath.Join(workDir, PythonVenvDir)))
		}
	}
	prog, args := h.command()
	out, err := commandOutput(ctx, workDir, prog, append(args, "--config"), h.Env, opts)
	if err != nil {
		return nil, &HookError{Hook: display, Err: fmt.Errorf("running --config: %w", err)}
	}
	cfg, err := ParseConfig(display, out, opts.Kind)
	if err != nil {
		return nil, &HookError{Hook: display, Err: err}
	}
	h.Config = cfg
	return h, nil
}

func (o DiscoverOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// commandOutput runs prog with args in workDir (the operator's environment,
// then opts.Env, then env) and returns its stdout; a failure carries the
// last stderr lines.
func commandOutput(ctx context.Context, workDir, prog string, args, env []string, opts DiscoverOptions) ([]byte, error) {
	timeout := opts.ConfigTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = workDir
	cmd.Env = append(append(os.Environ(), opts.Env...), env...)
	ownProcessGroup(cmd)
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if ctx.Err() != nil {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		if msg != "" {
			return nil, fmt.Errorf("%w: %s", err, lastLines(msg, stderrTailLines))
		}
		return nil, err
	}
	return stdout.Bytes(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
