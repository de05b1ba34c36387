package localenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/mod/modfile"
)

// Binary names envtest looks for in its asset directory.
const (
	apiServerBinary = "kube-apiserver"
	etcdBinary      = "etcd"
	completeStamp   = ".complete"
)

// CacheDir is where deckhand keeps what it builds once per machine:
// $DECKHAND_CACHE_DIR, else the user cache dir ($XDG_CACHE_HOME or ~/.cache)
// joined with "deckhand".
func CacheDir() (string, error) {
	if d := os.Getenv("DECKHAND_CACHE_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding a cache directory (set DECKHAND_CACHE_DIR): %w", err)
	}
	return filepath.Join(base, "deckhand"), nil
}

// EnsureKubeBinaries returns a directory holding kube-apiserver and etcd of
// the given Kubernetes version. KUBEBUILDER_ASSETS wins when it already holds
// both; otherwise the binaries are built from the Go module proxy into the
// cache, once per version. A file lock makes parallel test packages wait for
// one build instead of running several.
func EnsureKubeBinaries(ctx context.Context, version string, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" && hasKubeBinaries(dir) {
		return dir, nil
	}
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "kube", version)
	if isComplete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("creating cache directory: %w", err)
	}
	lock := flock.New(dir + ".lock")
	locked, err := lock.TryLock()
	if err != nil {
		return "", fmt.Errorf("locking %s: %w", lock.Path(), err)
	}
	if !locked {
		fmt.Fprintf(progress, "waiting for another process building kube-apiserver %s (lock %s)\n", version, lock.Path())
		if _, err := lock.TryLockContext(ctx, time.Second); err != nil {
			return "", fmt.Errorf("waiting for lock %s: %w", lock.Path(), err)
		}
	}
	defer func() { _ = lock.Unlock() }()
	if isComplete(dir) { // built by whoever held the lock before us
		return dir, nil
	}
	if err := buildKubeBinaries(ctx, version, dir, progress); err != nil {
		return "", err
	}
	return dir, nil
}

func hasKubeBinaries(dir string) bool {
	for _, name := range []string{apiServerBinary, etcdBinary} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

func isComplete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, completeStamp))
	return err == nil && hasKubeBinaries(dir)
}

// buildKubeBinaries builds in a throw-away module that requires
// k8s.io/kubernetes and replaces its staging modules (which its own go.mod
// points at local paths) with their published v0.Y.Z versions.
func buildKubeBinaries(ctx context.Context, version, dir string, progress io.Writer) error {
	goBin, err := goTool()
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(progress, "building kube-apiserver and etcd %s from the Go module proxy (once per machine, about 3-5 minutes)\n", version)
	work, err := os.MkdirTemp("", "deckhand-kube-build-")
	if err != nil {
		return fmt.Errorf("creating build directory: %w", err)
	}
	defer func() { _ = os.RemoveAll(work) }()

	b := &goBuild{goBin: goBin, dir: work, progress: progress, start: start}
	gomod, err := b.output(ctx, "go mod download", "mod", "download", "-json", "k8s.io/kubernetes@"+version)
	if err != nil {
		return err
	}
	var dl struct{ GoMod, Error string }
	if err := json.Unmarshal(gomod, &dl); err != nil {
		return fmt.Errorf("reading go mod download output for k8s.io/kubernetes@%s: %w", version, err)
	}
	if dl.GoMod == "" {
		return fmt.Errorf("downloading k8s.io/kubernetes@%s: %s", version, dl.Error)
	}
	modText, err := throwawayGoMod(dl.GoMod, version)
	if err != nil {
		return err
	}
	files := map[string]string{
		"go.mod":   modText,
		"tools.go": "//go:build tools\n\npackage kubebuild\n\nimport (\n\t_ \"go.etcd.io/etcd/server/v3\"\n\t_ \"k8s.io/kubernetes/cmd/kube-apiserver\"\n)\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	if _, err := b.output(ctx, "resolving modules", "mod", "tidy"); err != nil {
		return err
	}
	out := filepath.Join(work, "bin")
	minor := strings.Split(strings.TrimPrefix(version, "v"), ".")
	ldflags := "-s -w -X k8s.io/component-base/version.gitVersion=" + version
	if len(minor) >= 2 {
		ldflags += " -X k8s.io/component-base/version.gitMajor=" + minor[0] + " -X k8s.io/component-base/version.gitMinor=" + minor[1]
	}
	if _, err := b.output(ctx, "building kube-apiserver", "build", "-o", filepath.Join(out, apiServerBinary), "-ldflags", ldflags, "k8s.io/kubernetes/cmd/kube-apiserver"); err != nil {
		return err
	}
	if _, err := b.output(ctx, "building etcd", "build", "-o", filepath.Join(out, etcdBinary), "-ldflags", "-s -w", "go.etcd.io/etcd/server/v3"); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for _, name := range []string{apiServerBinary, etcdBinary} {
		if err := moveFile(filepath.Join(out, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, completeStamp), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return fmt.Errorf("marking %s complete: %w", dir, err)
	}
	fmt.Fprintf(progress, "kube-apiserver and etcd %s ready in %s (%s)\n", version, dir, time.Since(start).Round(time.Second))
	return nil
}

// throwawayGoMod writes the go.mod of the build module from kubernetes' own.
func throwawayGoMod(kubeGoMod, version string) (string, error) {
	data, err := os.ReadFile(kubeGoMod)
	if err != nil {
		return "", fmt.Errorf("reading kubernetes go.mod: %w", err)
	}
	f, err := modfile.Parse(kubeGoMod, data, nil)
	if err != nil {
		return "", fmt.Errorf("parsing kubernetes go.mod: %w", err)
	}
	staging := "v0." + strings.SplitN(strings.TrimPrefix(version, "v1."), "-", 2)[0]
	var sb strings.Builder
	sb.WriteString("module deckhand.local/kubebuild\n\n")
	if f.Go != nil {
		fmt.Fprintf(&sb, "go %s\n\n", f.Go.Version)
	}
	fmt.Fprintf(&sb, "require k8s.io/kubernetes %s\n\nreplace (\n", version)
	n := 0
	for _, r := range f.Replace {
		if strings.HasPrefix(r.New.Path, "./staging/") {
			fmt.Fprintf(&sb, "\t%s => %s %s\n", r.Old.Path, r.Old.Path, staging)
			n++
		}
	}
	sb.WriteString(")\n")
	if n == 0 {
		return "", errors.New("kubernetes go.mod lists no staging modules; cannot build kube-apiserver from it")
	}
	return sb.String(), nil
}

func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if p := filepath.Join(os.Getenv("GOROOT"), "bin", "go"); os.Getenv("GOROOT") != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat("/usr/local/go/bin/go"); err == nil {
		return "/usr/local/go/bin/go", nil
	}
	return "", errors.New("the Go toolchain is needed once to build kube-apiserver and etcd: install Go, or point KUBEBUILDER_ASSETS at a directory holding both binaries")
}

func moveFile(from, to string) error {
	if err := os.Rename(from, to); err == nil {
		return nil
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("reading %s: %w", from, err)
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	return os.Rename(tmp, to)
}

// goBuild runs go commands in one directory and reports progress while they run.
type goBuild struct {
	goBin    string
	dir      string
	progress io.Writer
	start    time.Time
}

func (b *goBuild) output(ctx context.Context, step string, args ...string) ([]byte, error) {
	fmt.Fprintf(b.progress, "  %s ...\n", step)
	cmd := exec.CommandContext(ctx, b.goBin, args...)
	cmd.Dir = b.dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(b.progress, "  %s ... %s elapsed\n", step, time.Since(b.start).Round(time.Second))
			}
		}
	}()
	err := cmd.Run()
	close(done)
	if err != nil {
		return nil, fmt.Errorf("%s (go %s): %w\n%s", step, strings.Join(args, " "), err, tail(stderr.String(), 30))
	}
	return stdout.Bytes(), nil
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
