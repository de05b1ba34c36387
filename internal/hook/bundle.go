package hook

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"
)

// bundleListed is what module-sdk's `hook list` prints first; addon-operator
// takes a match as proof that the file is a bundle.
var bundleListed = regexp.MustCompile(`\bFound ([1-9][0-9]{0,3}) items`)

// bundleProbeTimeout caps one `hook list` probe: every executable without
// an extension in a module is probed, and a bundle answers at once.
const bundleProbeTimeout = 10 * time.Second

// probeBundle runs `path hook list` and reports whether path is a
// module-sdk bundle and how many hooks it lists. Any failure means "not a
// bundle": the file is then loaded as a plain hook, which reports it.
func probeBundle(ctx context.Context, workDir, path string, opts DiscoverOptions) (int, bool) {
	probe := opts
	if probe.ConfigTimeout == 0 || probe.ConfigTimeout > bundleProbeTimeout {
		probe.ConfigTimeout = bundleProbeTimeout
	}
	out, err := commandOutput(ctx, workDir, path, []string{"hook", "list"}, nil, probe)
	if err != nil {
		opts.logger().Debug("not a hook bundle", slog.String("path", path), slog.Any("error", err))
		return 0, false
	}
	m := bundleListed.FindSubmatch(out)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n, true
}

// loadBundle runs `path hook config` and turns every entry into a Hook.
// listed is the count `hook list` printed.
func loadBundle(ctx context.Context, workDir, path, name, display string, listed int, opts DiscoverOptions) ([]*Hook, error) {
	out, err := commandOutput(ctx, workDir, path, []string{"hook", "config"}, nil, opts)
	if err != nil {
		return nil, &HookError{Hook: display, Err: fmt.Errorf("running hook config: %w", err)}
	}
	cfg, err := ParseBatchConfig(display, out, opts.Kind)
	if err != nil {
		return nil, &HookError{Hook: display, Err: err}
	}
	if len(cfg.Hooks) != listed {
		opts.logger().Warn("hook bundle lists a different number of hooks than it configures",
			slog.String("hook", display), slog.Int("listed", listed), slog.Int("configured", len(cfg.Hooks)))
	}
	hooks := make([]*Hook, 0, len(cfg.Hooks))
	for _, e := range cfg.Hooks {
		batch := e.BatchHook
		hooks = append(hooks, &Hook{
			Name:   batchHookName(name, e),
			Path:   path,
			Config: e.Config,
			Args:   []string{"hook", "run", strconv.Itoa(e.Index)},
			Batch:  &batch,
		})
	}
	return hooks, nil
}
