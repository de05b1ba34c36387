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
// does: a recursive walk, skipping hidden entries, "lib" directories and
// opts.ExcludeDirs, files with a .yaml/.json/.md/.txt extension, and files
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
// environment). A hook that fails to load does not stop the others: the
// loaded hooks come back sorted by name together with one *HookError per
// broken hook. err is only set when dir itself cannot be listed.
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
		h, err := LoadHook(ctx, root, path, name, display, opts)
		if err != nil {
			hookErrs = append(hookErrs, err)
			continue
		}
		hooks = append(hooks, h)
	}
	return hooks, hookErrs, nil
}

// LoadHook runs the executable at path with --config in workDir and parses
// its output. name becomes Hook.Name; display names the hook in errors.
// Errors are *HookError.
func LoadHook(ctx context.Context, workDir, path, name, display string, opts DiscoverOptions) (*Hook, error) {
	out, err := configOutput(ctx, workDir, path, opts)
	if err != nil {
		return nil, &HookError{Hook: display, Err: err}
	}
	cfg, err := ParseConfig(display, out, opts.Kind)
	if err != nil {
		return nil, &HookError{Hook: display, Err: err}
	}
	return &Hook{Name: name, Path: path, Config: cfg}, nil
}

func configOutput(ctx context.Context, workDir, path string, opts DiscoverOptions) ([]byte, error) {
	timeout := opts.ConfigTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--config")
	cmd.Dir = workDir
	cmd.Env = append(os.Environ(), opts.Env...)
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
			return nil, fmt.Errorf("running --config: %w: %s", err, lastLines(msg, stderrTailLines))
		}
		return nil, fmt.Errorf("running --config: %w", err)
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
