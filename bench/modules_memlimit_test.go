package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// BenchmarkModulesColdConverge50MemoryLimit runs the 50-module cold converge
// inside a memory cgroup (v1) with a hard limit, from a cold page cache, for
// each limit in DECKHAND_BENCH_MEMORY_LIMITS (MiB, comma-separated; default
// 64,96,128). Peak RSS overstates what deckhand needs: on kernels that
// map whole large page-cache folios of the executable, most of it is clean,
// shared pages of the binary that the kernel drops under pressure and reads
// again. A hard limit shows the memory the converge really needs: the
// smallest limit it completes in, with its time. Each run reports whether it
// completed, its time, the cgroup's peak usage and its failcnt.
//
// Root only (it writes /sys/fs/cgroup/memory and /proc/sys/vm/drop_caches);
// skipped elsewhere.
func BenchmarkModulesColdConverge50MemoryLimit(b *testing.B) {
	const root = "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(root, "memory.limit_in_bytes")); err != nil || os.Geteuid() != 0 {
		b.Skip("needs root and a cgroup v1 memory controller at " + root)
	}
	limits := []int{64, 96, 128}
	if env := os.Getenv("DECKHAND_BENCH_MEMORY_LIMITS"); env != "" {
		limits = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatalf("DECKHAND_BENCH_MEMORY_LIMITS: %q is not a number of MiB", f)
			}
			limits = append(limits, n)
		}
	}
	const n = 50
	cp := testenv.ControlPlane(b)
	bin := testenv.DeckhandBinary(b)
	cs := kubernetes.NewForConfigOrDie(fastConfig(cp.Config))
	dir := writeBenchModules(b, n)
	for i := 0; i < b.N; i++ {
		for _, mib := range limits {
			cg := filepath.Join(root, fmt.Sprintf("deckhand-bench-%d-%d", os.Getpid(), mib))
			if err := os.Mkdir(cg, 0o755); err != nil {
				b.Fatal(err)
			}
			write := func(file, v string) {
				if err := os.WriteFile(filepath.Join(cg, file), []byte(v), 0o644); err != nil {
					b.Fatalf("%s: %v", file, err)
				}
			}
			write("memory.limit_in_bytes", strconv.Itoa(mib<<20))
			// No swap: the limit must hold for anonymous memory too.
			_ = os.WriteFile(filepath.Join(cg, "memory.memsw.limit_in_bytes"), []byte(strconv.Itoa(mib<<20)), 0o644)
			// A cold page cache: the binary's pages are read (and charged)
			// inside the limit, as in a fresh pod. Dirty pages (a binary just
			// built) are not dropped, so write them back first.
			syscall.Sync()
			if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0o200); err != nil {
				b.Fatal(err)
			}
			ns := testenv.Namespace(b, cp.Config, "memlim")
			start := time.Now()
			// The shell joins the cgroup before exec, so every page deckhand
			// touches is charged to it.
			// Below the working set the kernel keeps dropping and re-reading
			// the binary's pages: the run thrashes rather than fails, so it
			// gets a deadline.
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			cmd := exec.CommandContext(ctx, "sh", "-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, cg,
				bin, "run", "--once", "--kubeconfig", cp.KubeconfigPath, "--modules-dir", dir, "-n", ns,
				"--listen-address", "", "--module-configs=false", "--config-map", "-", "--log-level", "error")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
			cancel()
			wall := time.Since(start)
			peak := readInt(b, filepath.Join(cg, "memory.max_usage_in_bytes"))
			failcnt := readInt(b, filepath.Join(cg, "memory.failcnt"))
			_ = os.Remove(cg)
			result := "completed"
			if timedOut {
				result = "did not finish in 90s (thrashing)"
			} else if err != nil {
				result = fmt.Sprintf("failed (%v)", err)
			} else if got := countConfigMaps(b, cs, ns); got != n*cmsPerModule {
				result = fmt.Sprintf("incomplete: %d of %d ConfigMaps", got, n*cmsPerModule)
			}
			b.Logf("limit %d MiB: %s in %.2fs; cgroup peak %.1f MiB, limit hit %d times",
				mib, result, wall.Seconds(), float64(peak)/(1<<20), failcnt)
			if err != nil && mib >= 128 {
				b.Fatalf("failed even at %d MiB: %s", mib, stderr.String())
			}
		}
	}
}

func readInt(b *testing.B, path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	return v
}
