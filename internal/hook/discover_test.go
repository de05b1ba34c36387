package hook

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func configScript(config string) string {
	return `if [ "$1" = "--config" ]; then cat <<'CFG'
` + config + `
CFG
exit 0; fi
`
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "hooks")
	writeScript(t, dir, "001-startup.sh", configScript("configVersion: v1\nonStartup: 1"))
	writeScript(t, dir, "002-pods/hook.sh", configScript(`{"configVersion":"v1","kubernetes":[{"kind":"Pod"}]}`))
	writeScript(t, dir, "002-pods/a-legacy.py", configScript(`{"onStartup": 5}`))
	// cwd of --config is the hooks dir, and the operator env is passed.
	writeScript(t, dir, "003-cwd.sh", `[ -f ./001-startup.sh ] && [ "$HOOK_ENV" = "on" ] || { echo "wrong cwd $(pwd) or env" >&2; exit 1; }
`+configScript("configVersion: v1\nschedule: [{crontab: '@every 1m'}]"))
	writeScript(t, dir, "004-bad-config.sh", configScript("configVersion: v1\nkubernetes:\n- kind: Pod\n- kind: Pod\n  labelSelector:\n    matchExpressions: [{key: a, operator: Foo}]"))
	writeScript(t, dir, "005-crash.sh", `echo "boom: cannot start" >&2; exit 2`)
	writeScript(t, dir, "lib/helper.sh", configScript("configVersion: v1\nonStartup: 1"))
	writeScript(t, dir, "nested/lib/helper.sh", configScript("configVersion: v1\nonStartup: 1"))
	writeScript(t, dir, ".hidden/hook.sh", configScript("configVersion: v1\nonStartup: 1"))
	writeScript(t, dir, ".hidden.sh", configScript("configVersion: v1\nonStartup: 1"))
	writeScript(t, dir, "venv/bin/python3", configScript("configVersion: v1\nonStartup: 1"))
	writeScript(t, dir, "values.yaml", "")
	writeScript(t, dir, "README.md", "")
	if err := os.WriteFile(filepath.Join(dir, "not-executable.sh"), []byte(configScript("configVersion: v1\nonStartup: 1")), 0o644); err != nil {
		t.Fatal(err)
	}

	var logs syncBuffer
	hooks, hookErrs, err := Discover(context.Background(), dir, DiscoverOptions{
		ExcludeDirs: []string{"venv"},
		Env:         []string{"HOOK_ENV=on"},
		Logger:      jsonLogger(&logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hooks {
		names = append(names, h.Name)
		if !filepath.IsAbs(h.Path) || filepath.Base(h.Path) != filepath.Base(h.Name) {
			t.Errorf("path %q for %q", h.Path, h.Name)
		}
	}
	if got := strings.Join(names, ","); got != "001-startup.sh,002-pods/a-legacy.py,002-pods/hook.sh,003-cwd.sh" {
		t.Errorf("hooks = %s", got)
	}
	if hooks[1].Config.Version != ConfigV0 || *hooks[1].Config.OnStartup != 5 || hooks[2].Config.Kubernetes[0].Watch.Kind != "Pod" {
		t.Errorf("configs not loaded: %+v %+v", hooks[1].Config, hooks[2].Config)
	}
	if len(hookErrs) != 2 {
		t.Fatalf("hook errors = %v", hookErrs)
	}
	var he *HookError
	if !errors.As(hookErrs[0], &he) || he.Hook != "hooks/004-bad-config.sh" {
		t.Errorf("first error: %v", hookErrs[0])
	}
	if want := `hooks/004-bad-config.sh: kubernetes[1].labelSelector.matchExpressions[0].operator: unsupported value "Foo"`; !strings.Contains(hookErrs[0].Error(), want) {
		t.Errorf("error %q does not contain %q", hookErrs[0], want)
	}
	if want := "hooks/005-crash.sh: running --config: exit status 2: boom: cannot start"; hookErrs[1].Error() != want {
		t.Errorf("error %q, want %q", hookErrs[1], want)
	}
	for _, want := range []string{"not-executable.sh", "ignored 'lib' directory"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("missing warning about %s in:\n%s", want, logs.String())
		}
	}
}

func TestDiscoverSymlinkedDir(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real-hooks")
	writeScript(t, real, "a.sh", configScript("configVersion: v1\nonStartup: 1"))
	writeScript(t, real, "b.sh", configScript("configVersion: v1\nonStartup: x"))
	link := filepath.Join(root, "hooks")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	hooks, errs, err := Discover(context.Background(), link, DiscoverOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil || len(hooks) != 1 || hooks[0].Name != "a.sh" {
		t.Fatalf("hooks=%v errs=%v err=%v", hooks, errs, err)
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "hooks/b.sh: onStartup: ") {
		t.Errorf("errors must name the dir as given: %v", errs)
	}
}

func TestDiscoverMissingDir(t *testing.T) {
	_, _, err := Discover(context.Background(), filepath.Join(t.TempDir(), "nope"), DiscoverOptions{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing dir: %v", err)
	}
}

func TestDiscoverModuleHooks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hooks")
	writeScript(t, dir, "h.sh", configScript("configVersion: v1\nbeforeHelm: 10"))
	hooks, errs, err := Discover(context.Background(), dir, DiscoverOptions{Kind: KindModule, Logger: slog.New(slog.DiscardHandler)})
	if err != nil || len(errs) != 0 || hooks[0].Config.Lifecycle[BindingBeforeHelm] != 10 {
		t.Fatalf("hooks=%v errs=%v err=%v", hooks, errs, err)
	}
	_, errs, _ = Discover(context.Background(), dir, DiscoverOptions{Logger: slog.New(slog.DiscardHandler)})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "hooks/h.sh: beforeHelm: unknown field") {
		t.Errorf("shell kind accepted beforeHelm: %v", errs)
	}
}
