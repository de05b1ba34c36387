package bench

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// kubeWatchObjects is the scale: 10,000 ConfigMaps.
const kubeWatchObjects = 10000

// BenchmarkKubeWatch lists and watches 10,000 ConfigMaps (about 1 KiB of
// data each) with a kube.Monitor (keepFullObjectsInMemory=false, a
// jqFilter) and, in the same run, with raw client-go informers (dynamic and
// typed) doing the same watch. It reports the time to Synchronization and the
// heap in use per watched object, and the ratios to the informers.
func BenchmarkKubeWatch(b *testing.B) {
	cfg := rest.CopyConfig(testenv.ControlPlane(b).Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	ns := testenv.Namespace(b, cfg, "bench-watch")
	createConfigMaps(b, cfg, ns, kubeWatchObjects)

	client, err := kube.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.Resolve("v1", "ConfigMap"); err != nil { // warm the shared discovery cache
		b.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}

	// Warm the API server's watch cache for the namespace so that whichever
	// watch runs first is not charged for it.
	if _, err := dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace(ns).List(context.Background(), metav1.ListOptions{ResourceVersion: "0"}); err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	for b.Loop() {
		// The filter reads three fields (and of data only its
		// keys); the second reads every value of data as well, so all of
		// each object is decoded and converted.
		monitor := monitorWatch(b, client, "ConfigMap", ns, `{name: .metadata.name, owner: .metadata.labels.owner, size: (.data | length)}`)
		monitorData := monitorWatch(b, client, "ConfigMap", ns, `{name: .metadata.name, owner: .metadata.labels.owner, data: .data}`)
		dynamicInformer := func(ctx context.Context) (int, func()) {
			f := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ns, nil)
			inf := f.ForResource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Informer()
			return runInformer(b, ctx, inf)
		}
		typedInformer := func(ctx context.Context) (int, func()) {
			f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
			inf := f.Core().V1().ConfigMaps().Informer()
			return runInformer(b, ctx, inf)
		}
		// Each watch runs kubeWatchRounds times, the order rotating every
		// round so each goes first as often as the others (whichever runs
		// right after the objects were written, or after a GC-heavy
		// neighbour, is neither favoured nor penalized), and the median of
		// each figure is kept: on a shared machine one pass can be slowed
		// by a neighbour, which a median ignores and a mean does not.
		watches := []struct {
			name  string
			start func(context.Context) (int, func())
		}{{"monitor", monitor}, {"typed informer", typedInformer}, {"dynamic informer", dynamicInformer}, {"monitor (data)", monitorData}}
		passes := make([][]watchFigures, len(watches))
		for round := range kubeWatchRounds {
			for i := range watches {
				w := (i + round) % len(watches)
				passes[w] = append(passes[w], measureWatch(b, watches[w].name, kubeWatchObjects, watches[w].start))
			}
		}
		for i, w := range watches {
			logPasses(b, w.name, passes[i])
		}
		mon, typedInf, dynInf, monData := median(passes[0]), median(passes[1]), median(passes[2]), median(passes[3])
		b.Logf("medians of %d passes: monitor sync %.1f ms (CPU %.1f ms), typed informer sync %.1f ms (CPU %.1f ms), dynamic informer sync %.1f ms (CPU %.1f ms), monitor reading data %.1f ms (CPU %.1f ms); sync ratio monitor/typed %.2f, monitor reading data/typed %.2f",
			kubeWatchRounds, mon.syncMS, mon.cpuMS, typedInf.syncMS, typedInf.cpuMS, dynInf.syncMS, dynInf.cpuMS, monData.syncMS, monData.cpuMS, mon.syncMS/typedInf.syncMS, monData.syncMS/typedInf.syncMS)
		b.ReportMetric(monData.syncMS, "monitordata-sync-ms")
		b.ReportMetric(monData.syncMS/typedInf.syncMS, "monitordata-sync-ratio-vs-typedinformer")
		b.ReportMetric(mon.syncMS, "monitor-sync-ms")
		b.ReportMetric(mon.heapPerObj, "monitor-heap-B/obj")
		b.ReportMetric(dynInf.syncMS, "dyninformer-sync-ms")
		b.ReportMetric(dynInf.heapPerObj, "dyninformer-heap-B/obj")
		b.ReportMetric(typedInf.syncMS, "typedinformer-sync-ms")
		b.ReportMetric(typedInf.heapPerObj, "typedinformer-heap-B/obj")
		b.ReportMetric(mon.allocPerObj, "monitor-live-B/obj")
		b.ReportMetric(dynInf.allocPerObj, "dyninformer-live-B/obj")
		b.ReportMetric(mon.syncMS/dynInf.syncMS, "sync-ratio-vs-dyninformer")
		b.ReportMetric(mon.syncMS/typedInf.syncMS, "sync-ratio-vs-typedinformer")
		b.ReportMetric(mon.cpuMS, "monitor-cpu-ms")
		b.ReportMetric(typedInf.cpuMS, "typedinformer-cpu-ms")
		b.ReportMetric(dynInf.cpuMS, "dyninformer-cpu-ms")
		b.ReportMetric(mon.heapPerObj/dynInf.heapPerObj, "heap-ratio-vs-dyninformer")
	}
}

// monitorWatch is a watch for measureWatch: a kube.Monitor of kind in ns
// with jqFilter (keepFullObjectsInMemory: false), started and synchronized.
func monitorWatch(b *testing.B, client *kube.Client, kind, ns, jqFilter string) func(context.Context) (int, func()) {
	return func(ctx context.Context) (int, func()) {
		m, err := kube.NewMonitor(client, kube.WatchSpec{
			Name: "bench", APIVersion: "v1", Kind: kind,
			Namespace: kube.NamespaceSelector{MatchNames: []string{ns}},
			JqFilter:  jqFilter,
		}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Start(ctx); err != nil {
			b.Fatal(err)
		}
		if err := m.WaitForSync(ctx); err != nil {
			b.Fatal(err)
		}
		return m.Len(), m.Stop
	}
}

// kubeWatchRounds is how many times each watch runs per iteration.
const kubeWatchRounds = 9

type watchFigures struct {
	syncMS      float64
	cpuMS       float64 // this process's user+system CPU until synchronized (the client's work; the API server is another process)
	heapPerObj  float64 // HeapInuse delta (spans, so fragmentation counts)
	allocPerObj float64 // HeapAlloc delta (live bytes)
}

// logPasses logs each pass of one watch on one line (a benchmark's log is
// cut after ten lines).
func logPasses(b *testing.B, what string, passes []watchFigures) {
	var sync, cpu, heap []string
	for _, p := range passes {
		sync = append(sync, fmt.Sprintf("%.0f", p.syncMS))
		cpu = append(cpu, fmt.Sprintf("%.0f", p.cpuMS))
		heap = append(heap, fmt.Sprintf("%.0f", p.heapPerObj))
	}
	b.Logf("%-16s sync ms %s | client CPU ms %s | heap in use B/object %s", what, strings.Join(sync, " "), strings.Join(cpu, " "), strings.Join(heap, " "))
}

// median is the median of each figure over passes, taken figure by figure.
func median(passes []watchFigures) watchFigures {
	mid := func(get func(watchFigures) float64) float64 {
		v := make([]float64, len(passes))
		for i, p := range passes {
			v[i] = get(p)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return watchFigures{
		syncMS:      mid(func(f watchFigures) float64 { return f.syncMS }),
		cpuMS:       mid(func(f watchFigures) float64 { return f.cpuMS }),
		heapPerObj:  mid(func(f watchFigures) float64 { return f.heapPerObj }),
		allocPerObj: mid(func(f watchFigures) float64 { return f.allocPerObj }),
	}
}

// measureWatch runs start (which returns once synchronized, with the number
// of objects kept and a stop func), then measures the heap it holds with
// the watch still running.
func measureWatch(b *testing.B, what string, want int, start func(ctx context.Context) (int, func())) watchFigures {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	before := heapStats()
	cpu0 := processCPU(b)
	t0 := time.Now()
	n, stop := start(ctx)
	syncTime := time.Since(t0)
	cpu := processCPU(b) - cpu0
	after := heapStats()
	stop()
	if n != want {
		b.Fatalf("%s kept %d objects, want %d", what, n, want)
	}
	f := watchFigures{
		syncMS:      float64(syncTime.Microseconds()) / 1000,
		cpuMS:       float64(cpu.Microseconds()) / 1000,
		heapPerObj:  float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / float64(n),
		allocPerObj: float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n),
	}
	return f
}

func runInformer(b *testing.B, ctx context.Context, inf cache.SharedIndexInformer) (int, func()) {
	ictx, icancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); inf.RunWithContext(ictx) }()
	// Poll every millisecond: cache.WaitForCacheSync polls every 100 ms,
	// which would round the floor up to the next 100 ms while the Monitor
	// is timed to the moment its Synchronization is handled.
	for !inf.HasSynced() {
		if ctx.Err() != nil {
			b.Fatal("informer did not sync")
		}
		time.Sleep(time.Millisecond)
	}
	return len(inf.GetStore().ListKeys()), func() { icancel(); <-done }
}

// processCPU is the user+system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapStats reads the heap after two collections, so only live data (and
// the spans holding it) counts.
func heapStats() runtime.MemStats {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms
}

// createConfigMaps creates n ConfigMaps of about 1 KiB of data each, with
// parallel clients.
func createConfigMaps(b *testing.B, cfg *rest.Config, ns string, n int) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	value := strings.Repeat("x", 250)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				cm := &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%05d", i), Namespace: ns,
						Labels: map[string]string{"owner": fmt.Sprintf("team-%d", i%10)}},
					Data: map[string]string{"a": value, "b": value, "c": value, "d": value},
				}
				if _, err := cs.CoreV1().ConfigMaps(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
