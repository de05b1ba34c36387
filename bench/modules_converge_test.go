package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// The module runtime's benchmarks run the real deckhand binary (`deckhand run`)
// as a child process, so its peak RSS is deckhand's alone, against the test
// kube-apiserver. Each module is a chart of 10 ConfigMaps, no hooks. The
// floor, in the same run, creates the same ConfigMaps straight through
// client-go with the same parallelism and rate limit (what any tool has to
// pay the API server), without Helm.

const cmsPerModule = 10

func BenchmarkModulesColdConverge50(b *testing.B)   { benchColdConverge(b, 50) }
func BenchmarkModulesColdConverge1000(b *testing.B) { benchColdConverge(b, 1000) }

func benchColdConverge(b *testing.B, n int) {
	cp := testenv.ControlPlane(b)
	bin := testenv.DeckhandBinary(b)
	kubeconfig := cp.KubeconfigPath
	cs := kubernetes.NewForConfigOrDie(fastConfig(cp.Config))
	dir := writeBenchModules(b, n)
	for i := 0; i < b.N; i++ {
		ns := testenv.Namespace(b, cp.Config, "conv")
		start := time.Now()
		cmd := exec.Command(bin, "run", "--once", "--kubeconfig", kubeconfig, "--modules-dir", dir, "-n", ns,
			"--listen-address", "", "--module-configs=false", "--config-map", "-", "--log-level", "error")
		var stderr bytes.Buffer
		cmd.Stderr, cmd.Stdout = &stderr, nil
		if err := cmd.Start(); err != nil {
			b.Fatalf("deckhand run --once: %v", err)
		}
		mem := sampleRSS(cmd.Process.Pid)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("deckhand run --once: %v\n%s", err, stderr.String())
		}
		wall := time.Since(start)
		peak := mem()
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		base := idleRSS(b, bin, kubeconfig, testenv.Namespace(b, cp.Config, "idle"))
		got := countConfigMaps(b, cs, ns)
		if got != n*cmsPerModule {
			b.Fatalf("%d ConfigMaps in %s, want %d", got, ns, n*cmsPerModule)
		}
		floorNS := testenv.Namespace(b, cp.Config, "floor")
		floor := createConfigMapsDirect(b, cs, floorNS, n)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		b.ReportMetric(wall.Seconds(), "s/converge")
		b.ReportMetric(peak.HWM, "MiB-peak-RSS")
		b.ReportMetric(peak.Anon, "MiB-peak-anon")
		b.ReportMetric(base, "MiB-idle-RSS")
		b.ReportMetric(cpu.Seconds(), "s-CPU")
		b.ReportMetric(floor.Seconds(), "s-floor")
		b.Logf("%d modules x %d ConfigMaps: deckhand run --once %.2fs (%.1f ms/module), peak RSS %.0f MiB (sampled peaks: anonymous %.0f MiB, file-backed %.0f MiB; `deckhand run` with no modules %.0f MiB), CPU %.2fs; floor (same ConfigMaps through client-go, 16 at a time) %.2fs; ratio %.2fx",
			n, cmsPerModule, wall.Seconds(), float64(wall.Milliseconds())/float64(n), peak.HWM, peak.Anon, peak.File, base, cpu.Seconds(), floor.Seconds(), wall.Seconds()/floor.Seconds())
	}
}

// BenchmarkModulesSteadyState converges 1,000 modules with a long-running
// `deckhand run`, then (a) changes one module's settings through
// addon-operator's ConfigMap and times until its ConfigMap changes, checking
// that only that module was upgraded, and (b) waits for a resync of all
// modules and checks that it upgraded nothing.
func BenchmarkModulesSteadyState(b *testing.B) {
	const n = 1000
	cp := testenv.ControlPlane(b)
	bin := testenv.DeckhandBinary(b)
	cs := kubernetes.NewForConfigOrDie(fastConfig(cp.Config))
	dir := writeBenchModules(b, n)
	for i := 0; i < b.N; i++ {
		ns := testenv.Namespace(b, cp.Config, "steady")
		port := freePort(b)
		resync := 60 * time.Second
		ctx, cancel := context.WithCancel(context.Background())
		cmd := exec.CommandContext(ctx, bin, "run", "--kubeconfig", cp.KubeconfigPath, "--modules-dir", dir, "-n", ns,
			"--listen-address", "127.0.0.1", "--listen-port", strconv.Itoa(port), "--module-configs=false",
			"--resync", resync.String(), "--log-level", "error")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
		waitFor(b, 5*time.Minute, "all modules upgraded once", func() bool { return metricSum(metricsURL, "deckhand_module_helm_upgrades_total") >= n })
		cold := time.Since(start)

		// (a) one module's settings change.
		changeStart := time.Now()
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "addon-operator"},
			Data:       map[string]string{"benchM7": "v: changed\n"},
		}, metav1.CreateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		waitFor(b, time.Minute, "bench-m7 ConfigMap changed", func() bool {
			cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "bench-m7-0", metav1.GetOptions{})
			return err == nil && cm.Data["v"] == "changed"
		})
		oneModule := time.Since(changeStart)
		time.Sleep(2 * time.Second) // any stray upgrade would show by now
		afterChange := metricSum(metricsURL, "deckhand_module_helm_upgrades_total")
		if afterChange != n+1 {
			b.Fatalf("upgrades after one module's change = %v, want %d (that module alone)", afterChange, n+1)
		}

		// (b) a resync of every unchanged module: no upgrade.
		cpuBefore := procCPU(b, cmd.Process.Pid)
		time.Sleep(resync + 20*time.Second)
		cpuResync := procCPU(b, cmd.Process.Pid) - cpuBefore
		st, err := readStatus(cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		afterResync := metricSum(metricsURL, "deckhand_module_helm_upgrades_total")
		cancel()
		_ = cmd.Wait()
		if afterResync != afterChange {
			b.Fatalf("a resync of unchanged modules upgraded %v of them", afterResync-afterChange)
		}
		b.ReportMetric(oneModule.Seconds(), "s-one-module")
		b.ReportMetric(cpuResync.Seconds(), "s-CPU-resync")
		b.Logf("%d modules: cold converge %.1fs; one module's settings changed -> its ConfigMap updated in %.2fs, upgrades %v (that module alone); resync of %d unchanged modules: 0 upgrades, %.2fs CPU; peak RSS %.0f MiB",
			n, cold.Seconds(), oneModule.Seconds(), afterChange-n, n, cpuResync.Seconds(), st["VmHWM"])
	}
}

// rssPeak is a child process's memory, in MiB: its peak RSS (VmHWM) and the
// highest anonymous and file-backed RSS sampled.
type rssPeak struct{ HWM, Anon, File float64 }

// sampleRSS polls /proc/<pid>/status every 10 ms until the process is gone
// and returns a func giving its peaks. The child's own VmHWM is read rather
// than wait4's ru_maxrss: Go starts children with CLONE_VM|CLONE_VFORK, and
// at exec the kernel folds the parent's peak into the child's ru_maxrss, so
// for a child of this test binary ru_maxrss reports the test binary's size.
// The kernel's peak does not split anonymous from file-backed memory, and on
// kernels that map whole large page-cache folios of the executable,
// file-backed pages of the binary are much of it.
func sampleRSS(pid int) func() rssPeak {
	var peak rssPeak
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			st, err := readStatus(pid)
			if err != nil || st["VmHWM"] == 0 {
				return // gone, or a zombie whose memory is released
			}
			peak.HWM = max(peak.HWM, st["VmHWM"])
			peak.Anon = max(peak.Anon, st["RssAnon"])
			peak.File = max(peak.File, st["RssFile"])
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() rssPeak {
		<-done
		return peak
	}
}

// readStatus returns the Vm*/Rss* lines of /proc/<pid>/status in MiB.
func readStatus(pid int) (map[string]float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	st := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (strings.HasPrefix(f[0], "Vm") || strings.HasPrefix(f[0], "Rss")) {
			kb, _ := strconv.ParseFloat(f[1], 64)
			st[strings.TrimSuffix(f[0], ":")] = kb / 1024
		}
	}
	return st, nil
}

// idleRSS is the memory floor of the binary itself in the same run: the peak
// RSS of a long-running `deckhand run` with an empty modules directory, two
// seconds after its start (clients, informers, servers up; nothing to do).
func idleRSS(b *testing.B, bin, kubeconfig, ns string) float64 {
	cmd := exec.Command(bin, "run", "--kubeconfig", kubeconfig, "--modules-dir", b.TempDir(), "-n", ns,
		"--listen-address", "", "--module-configs=false", "--config-map", "-", "--log-level", "error")
	if err := cmd.Start(); err != nil {
		b.Fatalf("deckhand run: %v", err)
	}
	time.Sleep(2 * time.Second)
	st, err := readStatus(cmd.Process.Pid)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if err != nil || st["VmHWM"] == 0 {
		b.Fatalf("deckhand run with no modules exited early: %v", err)
	}
	return st["VmHWM"]
}

// writeBenchModules writes n modules of cmsPerModule ConfigMaps each, all
// enabled by the modules directory's values.yaml.
func writeBenchModules(b *testing.B, n int) string {
	dir := b.TempDir()
	var enabled strings.Builder
	for i := range n {
		name := fmt.Sprintf("bench-m%d", i)
		var tpl strings.Builder
		for j := range cmsPerModule {
			fmt.Fprintf(&tpl, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-%d\n  namespace: {{ .Release.Namespace }}\ndata:\n  v: {{ .Values.benchM%d.v | default \"initial\" | quote }}\n  n: \"%d\"\n", name, j, i, j)
		}
		files := map[string]string{
			name + "/module.yaml":                "name: " + name + "\n",
			name + "/Chart.yaml":                 "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n",
			name + "/templates/cms.yaml":         tpl.String(),
			name + "/openapi/config-values.yaml": "type: object\nproperties:\n  v: {type: string}\n",
		}
		testenv.WriteFiles(b, dir, files)
		fmt.Fprintf(&enabled, "benchM%dEnabled: true\n", i)
	}
	testenv.WriteFiles(b, dir, map[string]string{"values.yaml": enabled.String()})
	return dir
}

// fastConfig has no client-side rate limit, so the floor is the API
// server's pace, not client-go's.
func fastConfig(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS, c.Burst = -1, 0
	return c
}

// floorWriters is how many goroutines create the floor's objects at once
// (more than deckhand's 4 Helm operations: a floor, not a match).
const floorWriters = 16

// createConfigMapsDirect is the floor: the same objects, written at once.
func createConfigMapsDirect(b *testing.B, cs kubernetes.Interface, ns string, n int) time.Duration {
	start := time.Now()
	work := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, floorWriters)
	for range floorWriters {
		wg.Go(func() {
			for i := range work {
				for j := range cmsPerModule {
					_, err := cs.CoreV1().ConfigMaps(ns).Create(context.Background(), &corev1.ConfigMap{
						ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-m%d-%d", i, j)},
						Data:       map[string]string{"v": "initial", "n": strconv.Itoa(j)},
					}, metav1.CreateOptions{})
					if err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	return time.Since(start)
}

func countConfigMaps(b *testing.B, cs kubernetes.Interface, ns string) int {
	list, err := cs.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	count := 0
	for _, cm := range list.Items {
		if strings.HasPrefix(cm.Name, "bench-m") {
			count++
		}
	}
	return count
}

func waitFor(b *testing.B, timeout time.Duration, what string, ok func() bool) {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metricSum adds up every series of a counter on a /metrics page (-1 when
// the page cannot be read yet).
func metricSum(url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

func freePort(b *testing.B) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// procCPU is a process's user+system CPU from /proc (clock ticks of 10 ms).
func procCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}
