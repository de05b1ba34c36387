package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/internal/runtime"
	"github.com/deckhand-dev/deckhand/internal/testenv"
	"github.com/deckhand-dev/deckhand/internal/values"
)

// Helpers of runtime_test.go (the module runtime run in this process).

// rtCMsPerModule is the module: a chart of 10 ConfigMaps.
const rtCMsPerModule = 10

// rtPrefixSeq makes module names unique within one test binary: Module
// objects are cluster-scoped, so a second run must not find the first's.
var rtPrefixSeq atomic.Int32

// rtModules is a generated modules directory.
type rtModules struct {
	dir   string
	names []string // module names, in order
	keys  []string // their values keys
}

// rtWriteModules writes n modules named rt<letter>-m<i>: module.yaml (name),
// Chart.yaml, templates/ with 10 ConfigMaps in the release namespace whose
// value v comes from the module's settings (default "initial"), a settings
// schema for v, no hooks; the modules directory's values.yaml enables all.
func rtWriteModules(b *testing.B, n int) *rtModules {
	b.Helper()
	seq := rtPrefixSeq.Add(1)
	prefix := "rt" + strings.Repeat("z", int(seq-1)/26) + string(rune('a'+(seq-1)%26))
	m := &rtModules{dir: b.TempDir()}
	var enabled strings.Builder
	files := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("%s-m%d", prefix, i)
		key, err := values.ModuleKey(name)
		if err != nil {
			b.Fatal(err)
		}
		var tpl strings.Builder
		for j := range rtCMsPerModule {
			fmt.Fprintf(&tpl, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-%d\n  namespace: {{ .Release.Namespace }}\ndata:\n  v: {{ .Values.%s.v | default \"initial\" | quote }}\n  n: \"%d\"\n", name, j, key, j)
		}
		files[name+"/module.yaml"] = "name: " + name + "\n"
		files[name+"/Chart.yaml"] = "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n"
		files[name+"/templates/cms.yaml"] = tpl.String()
		files[name+"/openapi/config-values.yaml"] = "type: object\nproperties:\n  v: {type: string}\n"
		fmt.Fprintf(&enabled, "%s: true\n", values.EnabledKey(key))
		m.names = append(m.names, name)
		m.keys = append(m.keys, key)
	}
	files["values.yaml"] = enabled.String()
	testenv.WriteFiles(b, m.dir, files)
	return m
}

// rtCountConfigMaps counts the ConfigMaps of the generated modules in ns and
// how many of them have v == want.
func rtCountConfigMaps(b *testing.B, cs kubernetes.Interface, ns, prefix, want string) (all, withV int) {
	b.Helper()
	list, err := cs.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, cm := range list.Items {
		if strings.HasPrefix(cm.Name, prefix) {
			all++
			if cm.Data["v"] == want {
				withV++
			}
		}
	}
	return all, withV
}

// rtModulePrefix is the common name prefix of the generated modules.
func (m *rtModules) prefix() string { return strings.TrimSuffix(m.names[0], "0") }

// rtDeleteModules deletes the Module objects a run with ModuleConfigs wrote
// (cluster-scoped, so they outlive the namespace), untimed.
func rtDeleteModules(dyn dynamic.Interface, names []string) {
	work := make(chan string)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for n := range work {
				_ = dyn.Resource(runtime.ModuleGVR).Delete(context.Background(), n, metav1.DeleteOptions{})
			}
		})
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
}

// rtGather returns, from a registry, the sum of every series of a counter or
// gauge, and the per-label-value figures of one label.
func rtGather(b *testing.B, g prometheus.Gatherer, name, label string) (float64, map[string]float64) {
	b.Helper()
	mfs, err := g.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var sum float64
	by := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			sum += v
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label {
					by[lp.GetValue()] += v
				}
			}
		}
	}
	return sum, by
}

// rtProcStatus reads fields of /proc/self/status in KiB (empty when it
// cannot be read).
func rtProcStatus() map[string]int64 {
	out := map[string]int64{}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch k {
		case "VmHWM", "VmRSS", "RssAnon", "RssFile":
			f := strings.Fields(v)
			if len(f) > 0 {
				out[k], _ = strconv.ParseInt(f[0], 10, 64)
			}
		}
	}
	return out
}

// rtMemory measures this process's memory around a run: the resident set
// before it (after a GC that returns freed memory to the OS), the peak
// resident set during it (VmHWM, reset through /proc/self/clear_refs at the
// start), and, sampled every 50 ms, the peaks of anonymous and file-backed
// resident memory and of the Go heap (objects, live or not yet swept).
type rtMemory struct {
	b        *testing.B
	before   map[string]int64
	resetOK  bool
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	maxAnon  int64 // KiB
	maxFile  int64 // KiB
	maxHeap  uint64
	maxLive  uint64
	samples  int
	hwmAfter int64
}

func rtStartMemory(b *testing.B) *rtMemory {
	goruntime.GC()
	debug.FreeOSMemory()
	m := &rtMemory{b: b, before: rtProcStatus(), stop: make(chan struct{}), done: make(chan struct{})}
	// "5" resets the peak RSS to the current RSS (Linux >= 4.0).
	m.resetOK = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	go m.sample()
	return m
}

func (m *rtMemory) sample() {
	defer close(m.done)
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		metrics.Read(s)
		st := rtProcStatus()
		m.mu.Lock()
		m.maxHeap = max(m.maxHeap, s[0].Value.Uint64())
		m.maxLive = max(m.maxLive, s[1].Value.Uint64())
		m.maxAnon = max(m.maxAnon, st["RssAnon"])
		m.maxFile = max(m.maxFile, st["RssFile"])
		m.samples++
		m.mu.Unlock()
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
	}
}

// end stops sampling and reads the peak.
func (m *rtMemory) end() {
	close(m.stop)
	<-m.done
	m.hwmAfter = rtProcStatus()["VmHWM"]
}

func rtMiB(kib int64) float64 { return float64(kib) / 1024 }

func (m *rtMemory) summary() string {
	reset := "reset at the start"
	if !m.resetOK {
		reset = "NOT reset (clear_refs refused): the process's peak since it started"
	}
	return fmt.Sprintf("RSS before %.0f MiB (anon %.0f, file %.0f); peak RSS (VmHWM, %s) %.0f MiB, +%.0f MiB over before; sampled peaks: anon %.0f MiB, file %.0f MiB, Go heap objects %.0f MiB, live heap after a GC %.0f MiB",
		rtMiB(m.before["VmRSS"]), rtMiB(m.before["RssAnon"]), rtMiB(m.before["RssFile"]), reset, rtMiB(m.hwmAfter), rtMiB(m.hwmAfter-m.before["VmRSS"]),
		rtMiB(m.maxAnon), rtMiB(m.maxFile), float64(m.maxHeap)/(1<<20), float64(m.maxLive)/(1<<20))
}

func (m *rtMemory) report(b *testing.B) {
	b.ReportMetric(rtMiB(m.hwmAfter), "MiB-peak-RSS")
	b.ReportMetric(rtMiB(m.hwmAfter-m.before["VmRSS"]), "MiB-peak-RSS-over-before")
	b.ReportMetric(float64(m.maxHeap)/(1<<20), "MiB-peak-heap")
}

// rtCPU is this process's user+system CPU time.
func rtCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rtProfileDir is where the benchmarks write profiles of their phases
// (RT_PROFILE_DIR; "" = none): heap-<what>.pprof after a GC with the
// runtime still running, cpu-<what>.pprof of one phase. go test's own
// -cpuprofile covers the whole binary and cannot be combined with the
// second.
var rtProfileDir = os.Getenv("RT_PROFILE_DIR")

func rtHeapProfile(b *testing.B, what string) {
	if rtProfileDir == "" {
		return
	}
	goruntime.GC()
	f, err := os.Create(filepath.Join(rtProfileDir, "heap-"+what+".pprof"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// rtCPUProfile starts a CPU profile of one phase; the func stops it.
func rtCPUProfile(b *testing.B, what string) func() {
	if rtProfileDir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(rtProfileDir, "cpu-"+what+".pprof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// rtWait polls ok every interval until it holds or timeout passes.
func rtWait(b *testing.B, timeout, interval time.Duration, what string, ok func() bool) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(interval)
	}
}
