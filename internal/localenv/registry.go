package localenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"golang.org/x/crypto/bcrypt"
)

// Registry is a running OCI registry on loopback.
type Registry struct {
	// Addr is host:port, usable as the registry part of an image reference.
	Addr string
	// Kind says which implementation serves it: "docker-registry" or "in-process".
	Kind string
	// DataDir is where a docker-registry keeps its blobs ("" for in-process).
	DataDir string

	stop func() error
}

// Stop stops the registry and frees its port.
func (r *Registry) Stop() error { return r.stop() }

// StartInProcessRegistry serves go-containerregistry's registry handler on a
// free loopback port. It is a real OCI distribution implementation held in
// memory: fast enough for every test.
func StartInProcessRegistry() *Registry {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	return &Registry{
		Addr: srv.Listener.Addr().String(),
		Kind: "in-process",
		stop: func() error { srv.Close(); return nil },
	}
}

// DockerRegistryBinary finds Debian's docker-registry (Distribution 2.8).
func DockerRegistryBinary() (string, error) {
	if p, err := exec.LookPath("docker-registry"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/bin/docker-registry", "/usr/sbin/docker-registry"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("docker-registry not found: run `make setup` (installs Debian's docker-registry package) or put it on PATH")
}

// DockerRegistryOptions tune StartDockerRegistry; the zero value is fine.
type DockerRegistryOptions struct {
	// DataDir keeps the registry's storage; empty means a temp dir removed on Stop.
	DataDir string
	// Port to listen on at 127.0.0.1; 0 picks a free one.
	Port int
	// Htpasswd, when set, turns on the registry's htpasswd authentication
	// with these users (name -> password): every request then needs them.
	Htpasswd map[string]string
}

// StartDockerRegistry starts Docker Registry v2 on 127.0.0.1 and waits until
// it answers /v2/. Stop terminates its whole process group.
//
// A free port can be taken by another process between choosing it and the
// registry binding it, so each attempt sets a unique response header and
// readiness only counts answers carrying it; a lost port is retried on a new one.
func StartDockerRegistry(ctx context.Context, opts DockerRegistryOptions) (*Registry, error) {
	bin, err := DockerRegistryBinary()
	if err != nil {
		return nil, err
	}
	attempts := 5
	if opts.Port != 0 {
		attempts = 1 // the caller asked for this port; do not move it
	}
	for i := 1; ; i++ {
		reg, err := startDockerRegistryOnce(ctx, bin, opts)
		if err == nil || i == attempts || ctx.Err() != nil {
			return reg, err
		}
	}
}

func startDockerRegistryOnce(ctx context.Context, bin string, opts DockerRegistryOptions) (_ *Registry, err error) {
	work, err := os.MkdirTemp("", "deckhand-registry-")
	if err != nil {
		return nil, fmt.Errorf("creating registry directory: %w", err)
	}
	started := false
	defer func() {
		if err != nil && !started {
			_ = os.RemoveAll(work)
		}
	}()
	data := opts.DataDir
	if data == "" {
		data = filepath.Join(work, "data")
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, fmt.Errorf("creating registry storage %s: %w", data, err)
	}
	port := opts.Port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	nonce := strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(os.Getpid())
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  headers:
    %s: [%q]
`, data, addr, instanceHeader, nonce)
	if len(opts.Htpasswd) > 0 {
		auth, err := writeHtpasswd(filepath.Join(work, "htpasswd"), opts.Htpasswd)
		if err != nil {
			return nil, err
		}
		config += auth
	}
	confPath := filepath.Join(work, "config.yml")
	if err := os.WriteFile(confPath, []byte(config), 0o644); err != nil {
		return nil, fmt.Errorf("writing registry config: %w", err)
	}
	logFile, err := os.Create(filepath.Join(work, "registry.log"))
	if err != nil {
		return nil, fmt.Errorf("creating registry log: %w", err)
	}
	cmd := exec.Command(bin, "serve", confPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	started = true
	// exited is closed when the process is gone; waitErr is set before that.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); _ = logFile.Close(); close(exited) }()
	stop := func() error {
		defer func() { _ = os.RemoveAll(work) }()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		return nil
	}
	ready := readiness{url: "http://" + addr + "/v2/", nonce: nonce, exited: exited, waitErr: func() error { return waitErr }, authRequired: len(opts.Htpasswd) > 0}
	if err := ready.wait(ctx, 20*time.Second); err != nil {
		logText, _ := os.ReadFile(filepath.Join(work, "registry.log"))
		_ = stop()
		return nil, fmt.Errorf("docker-registry on %s did not become ready: %w\n%s", addr, err, tail(string(logText), 20))
	}
	return &Registry{Addr: addr, Kind: "docker-registry", DataDir: data, stop: stop}, nil
}

// writeHtpasswd writes users with bcrypt hashes (the only kind Distribution
// accepts) and returns the registry config section that uses the file.
func writeHtpasswd(path string, users map[string]string) (string, error) {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(users)) {
		hash, err := bcrypt.GenerateFromPassword([]byte(users[name]), bcrypt.MinCost)
		if err != nil {
			return "", fmt.Errorf("hashing the password of registry user %s: %w", name, err)
		}
		fmt.Fprintf(&b, "%s:%s\n", name, hash)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("writing registry htpasswd: %w", err)
	}
	return fmt.Sprintf("auth:\n  htpasswd:\n    realm: deckhand\n    path: %s\n", path), nil
}

// instanceHeader carries a per-start nonce so readiness checks know they
// reached the registry they started.
const instanceHeader = "X-Deckhand-Instance"

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// readiness polls a registry until it answers /v2/ with its own nonce.
type readiness struct {
	url     string
	nonce   string
	exited  <-chan struct{}
	waitErr func() error
	// authRequired: a 401 from the right instance means it is up.
	authRequired bool
}

func (r readiness) wait(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			return fmt.Errorf("process exited: %w", r.waitErr())
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(r.url)
		if err == nil {
			_ = resp.Body.Close()
			switch {
			case resp.Header.Get(instanceHeader) != r.nonce:
				err = fmt.Errorf("GET %s: answered by another server (port taken)", r.url)
			case resp.StatusCode == http.StatusOK, r.authRequired && resp.StatusCode == http.StatusUnauthorized:
				return nil
			default:
				err = fmt.Errorf("GET %s: %s", r.url, resp.Status)
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %s: %w", timeout, last)
}
