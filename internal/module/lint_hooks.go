package module

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/deckhand-dev/deckhand/internal/hook"
)

// HookConfigTimeout bounds one `<hook> --config` run during lint.
const HookConfigTimeout = 20 * time.Second

// lintHooks checks that hook-looking files are executable (hooks/hook-executable)
// and that every hook's --config output is a valid module hook config, using
// the same strict parser the runtime uses (hooks/hook-config).
func lintHooks(ctx context.Context, c *collector, m *Module) {
	for _, rel := range m.NonExecutableHooks {
		c.add(LinterHooks, "hook-executable", rel, 1, "starts with #! but is not executable: addon-operator skips it (chmod +x)")
	}
	for _, rel := range m.Hooks {
		out, err := HookConfig(ctx, m.Dir, rel)
		if err != nil {
			c.add(LinterHooks, "hook-config", rel, 0, "%v", err)
			continue
		}
		if _, err := hook.ParseConfig(rel, out, hook.KindModule); err != nil {
			for _, e := range unjoin(err) {
				var fe *hook.FieldError
				if errors.As(e, &fe) {
					msg := fe.Message
					if fe.Field != "" {
						msg = fe.Field + ": " + msg
					}
					c.add(LinterHooks, "hook-config", rel, 0, "--config: %s", msg)
				} else {
					c.add(LinterHooks, "hook-config", rel, 0, "--config: %v", e)
				}
			}
		}
	}
}

// HookConfig runs `<hook> --config` in the module's hooks directory, as
// addon-operator does, and returns its stdout.
func HookConfig(ctx context.Context, moduleDir, rel string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, HookConfigTimeout)
	defer cancel()
	path := filepath.Join(moduleDir, filepath.FromSlash(rel))
	cmd := exec.CommandContext(ctx, path, "--config")
	cmd.Dir = filepath.Join(moduleDir, "hooks")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return nil, errors.New("--config failed: " + err.Error() + ": " + msg)
		}
		return nil, errors.New("--config failed: " + err.Error())
	}
	return stdout.Bytes(), nil
}
