package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runtimeSpec says how to start one hook runtime on the shared hook
// directory and kubeconfig.
type runtimeSpec struct {
	name   string
	binary string
	// command returns the arguments and extra environment for one run;
	// tmp is a fresh directory for the runtime's own files.
	command func(hooksDir, kubeconfig, tmp string) (args, env []string, err error)
}

func deckhandSpec(binary string) runtimeSpec {
	return runtimeSpec{name: "deckhand", binary: binary, command: func(hooksDir, kubeconfig, tmp string) ([]string, []string, error) {
		port, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		debugPort, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		return []string{"hooks", "serve",
			"--hooks-dir", hooksDir,
			"--kubeconfig", kubeconfig,
			"--listen-address", "127.0.0.1:" + strconv.Itoa(port),
			"--debug-address", "127.0.0.1:" + strconv.Itoa(debugPort),
			"--tmp-dir", tmp,
			"--log-format", "json",
		}, nil, nil
	}}
}

// shellOperatorSpec runs shell-operator outside a cluster: a kubeconfig
// instead of the in-cluster config, the metrics listener and debug socket
// moved off their in-pod defaults. It keeps its default kube client rate
// limits (the ones issue 4's figures were taken with).
func shellOperatorSpec(binary string) runtimeSpec {
	return runtimeSpec{name: "shell-operator", binary: binary, command: func(hooksDir, kubeconfig, tmp string) ([]string, []string, error) {
		port, err := freePort()
		if err != nil {
			return nil, nil, err
		}
		return []string{"start",
				"--hooks-dir", hooksDir,
				"--kube-config", kubeconfig,
				"--listen-address", "127.0.0.1",
				"--listen-port", strconv.Itoa(port),
				"--tmp-dir", tmp,
				"--debug-unix-socket", filepath.Join(tmp, "debug.socket"),
				"--log-type", "json",
			}, []string{
				// The flags above win; these keep it from reading anything
				// of a pod's environment.
				"LOG_TYPE=json",
				"KUBECONFIG=" + kubeconfig,
			}, nil
	}}
}

// process is one running runtime.
type process struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	waitErr error
	logPath string
}

// startProcess starts spec with its output in dir/log.
func startProcess(spec runtimeSpec, hooksDir, kubeconfig, dir string) (*process, error) {
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", tmp, err)
	}
	args, env, err := spec.command(hooksDir, kubeconfig, tmp)
	if err != nil {
		return nil, fmt.Errorf("preparing %s: %w", spec.name, err)
	}
	logPath := filepath.Join(dir, "log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s log: %w", spec.name, err)
	}
	cmd := exec.Command(spec.binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// If this program dies, the runtime (and its hooks) must not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &process{cmd: cmd, done: make(chan struct{}), logPath: logPath}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting %s %s: %w", spec.name, spec.binary, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited returns an error naming the log when the process has ended.
func (p *process) exited() error {
	select {
	case <-p.done:
		status := p.waitErr
		if status == nil {
			status = errors.New("exit status 0")
		}
		return fmt.Errorf("%s exited (%w); last lines of %s:\n%s", filepath.Base(p.cmd.Path), status, p.logPath, logTail(p.logPath, 15))
	default:
		return nil
	}
}

// stop sends SIGTERM and waits; after grace it kills.
func (p *process) stop(grace time.Duration) (time.Duration, error) {
	t0 := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, fmt.Errorf("signalling pid %d: %w", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
		return time.Since(t0), nil
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return time.Since(t0), fmt.Errorf("pid %d did not stop within %s of SIGTERM; killed", p.cmd.Process.Pid, grace)
	}
}

// memory is what /proc/PID/status says of resident memory.
type memory struct {
	rssKiB, hwmKiB int64
}

func (p *process) memory() (memory, error) {
	path := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return memory{}, fmt.Errorf("reading %s: %w", path, err)
	}
	var m memory
	for line := range strings.SplitSeq(string(data), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch key {
		case "VmRSS":
			dst = &m.rssKiB
		case "VmHWM":
			dst = &m.hwmKiB
		default:
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		*dst = kib
	}
	if m.rssKiB == 0 || m.hwmKiB == 0 {
		return memory{}, fmt.Errorf("%s: no VmRSS or VmHWM", path)
	}
	return m, nil
}

// cpu is the process's own user+system CPU time (its hooks, once reaped,
// count in cutime, which is left out: the hook costs the same under both).
func (p *process) cpu() (time.Duration, error) {
	path := fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("%s: unexpected format", path)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func logTail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// buildDeckhand builds ./cmd/deckhand into dir.
func buildDeckhand(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "deckhand")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/deckhand")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as the Makefile builds it
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./cmd/deckhand (run from the module root): %w\n%s", err, out)
	}
	return bin, nil
}

// cpuTimes is the machine's CPU time from the first line of /proc/stat, in
// clock ticks: all of it, and the part spent idle or waiting for I/O.
type cpuTimes struct{ total, idle int64 }

func machineCPU() (cpuTimes, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, fmt.Errorf("reading /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return cpuTimes{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var t cpuTimes
	for i, f := range fields[1:] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return cpuTimes{}, fmt.Errorf("/proc/stat: field %d of %q: %w", i+1, line, err)
		}
		t.total += v
		if i == 3 || i == 4 { // idle, iowait
			t.idle += v
		}
	}
	return t, nil
}

// busyCores is how many cores were busy on average between a and b.
func busyCores(a, b cpuTimes) float64 {
	total := b.total - a.total
	if total <= 0 {
		return 0
	}
	return float64(total-(b.idle-a.idle)) / float64(total) * float64(runtime.NumCPU())
}
