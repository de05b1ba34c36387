package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/deckhand-dev/deckhand/bench/latencyhook"
	"github.com/deckhand-dev/deckhand/internal/hookserver"
	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// The load: 1,000 updates at 50 updates/s.
const (
	latencyUpdates  = 1000
	latencyInterval = 20 * time.Millisecond
	seqAnnotation   = latencyhook.SeqAnnotation
)

// BenchmarkHookEventLatency watches 10,000 ConfigMaps through a jqFilter with
// deckhand's hook runtime (hookserver: kube.Monitor, queue, bash + jq hook)
// and, in the same run and on the same updates, with a raw client-go typed
// informer (the floor) and a bare kube.Monitor with the same jqFilter (the
// watch part of the runtime, without queue and process). After
// Synchronization it reads the runtime's heap per watched object, then sends
// 1,000 updates (one annotation each, on distinct ConfigMaps) at 50 per
// second and reports the latency percentiles from the moment each update
// request was sent to the hook's start, to the informer's event handler and
// to the Monitor's handler, and the hook runs' mean duration.
func BenchmarkHookEventLatency(b *testing.B) {
	cfg := rest.CopyConfig(testenv.ControlPlane(b).Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	ns := testenv.Namespace(b, cfg, "bench-latency")
	createConfigMaps(b, cfg, ns, kubeWatchObjects)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	round := 0
	b.ResetTimer()
	for b.Loop() {
		round++
		f := measureHookLatency(b, cfg, cs, ns, round)
		b.ReportMetric(f.hook.p50, "hook-p50-ms")
		b.ReportMetric(f.hook.p99, "hook-p99-ms")
		b.ReportMetric(f.hook.max, "hook-max-ms")
		b.ReportMetric(f.informer.p50, "informer-p50-ms")
		b.ReportMetric(f.informer.p99, "informer-p99-ms")
		b.ReportMetric(f.informer.max, "informer-max-ms")
		b.ReportMetric(f.monitor.p50, "monitor-p50-ms")
		b.ReportMetric(f.monitor.p99, "monitor-p99-ms")
		b.ReportMetric(float64(f.hookRuns), "hook-runs")
		b.ReportMetric(f.hookRunMS, "hook-run-mean-ms")
		b.ReportMetric(f.bareRunMS, "bare-bash-jq-run-mean-ms")
		b.ReportMetric(f.syncMS, "runtime-sync-ms")
		b.ReportMetric(f.heapPerObj, "runtime-heap-B/obj")
		b.ReportMetric(f.livePerObj, "runtime-live-B/obj")
	}
}

type percentiles struct{ p50, p99, max float64 }

type latencyFigures struct {
	hook, informer         percentiles
	monitor                percentiles
	hookRuns               int
	hookRunMS              float64 // mean duration of the update phase's runs
	bareRunMS              float64 // mean duration of the same script run directly (os/exec), same binding context shape
	syncMS                 float64
	heapPerObj, livePerObj float64
}

func measureHookLatency(b *testing.B, cfg *rest.Config, cs kubernetes.Interface, ns string, round int) latencyFigures {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := b.TempDir()
	out := filepath.Join(dir, "latency.out")
	hooksDir := filepath.Join(dir, "hooks")
	if err := os.MkdirAll(hooksDir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hooksDir, "latency.sh"), latencyhook.Script(ns, `"$LATENCY_OUT"`), 0o755); err != nil {
		b.Fatal(err)
	}

	// The hook runtime, timed to its Synchronization run and then weighed.
	before := heapStats()
	t0 := time.Now()
	srv, err := hookserver.New(hookserver.Options{
		HooksDir:      hooksDir,
		RestConfig:    cfg,
		ListenAddress: "127.0.0.1:0",
		TempDir:       b.TempDir(),
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Env:           []string{"LATENCY_OUT=" + out},
	})
	if err != nil {
		b.Fatal(err)
	}
	addr, err := srv.Listen()
	if err != nil {
		b.Fatal(err)
	}
	srvCtx, srvCancel := context.WithCancel(ctx)
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(srvCtx) }()
	defer func() {
		srvCancel()
		if err := <-srvDone; err != nil {
			b.Errorf("hook server: %v", err)
		}
	}()
	waitUntil(b, ctx, "the hook's Synchronization run", func() bool {
		_, synced := readLatencyOut(b, out)
		return synced
	})
	var f latencyFigures
	f.syncMS = float64(time.Since(t0).Microseconds()) / 1000
	after := heapStats()
	f.heapPerObj = float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / kubeWatchObjects
	f.livePerObj = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / kubeWatchObjects

	// The floor: a typed informer's update handler, on the same updates.
	sent := make([]atomic.Int64, latencyUpdates)
	received := make([]atomic.Int64, latencyUpdates)
	var receivedCount atomic.Int64
	prefix := strconv.Itoa(round) + "-"
	inf := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns)).Core().V1().ConfigMaps().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, obj any) {
		now := time.Now().UnixNano()
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok {
			return
		}
		if i, ok := parseSeq(cm.Annotations[seqAnnotation], prefix); ok && received[i].CompareAndSwap(0, now) {
			receivedCount.Add(1)
		}
	}}); err != nil {
		b.Fatal(err)
	}
	infCtx, infCancel := context.WithCancel(ctx)
	infDone := make(chan struct{})
	go func() { defer close(infDone); inf.RunWithContext(infCtx) }()
	defer func() { infCancel(); <-infDone }()
	waitUntil(b, ctx, "the informer's sync", inf.HasSynced)

	// The watch part of the runtime alone: a kube.Monitor's handler.
	monReceived := make([]atomic.Int64, latencyUpdates)
	var monCount atomic.Int64
	client, err := kube.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	mon, err := kube.NewMonitor(client, kube.WatchSpec{
		Name: "latency", APIVersion: "v1", Kind: "ConfigMap",
		Namespace: kube.NamespaceSelector{MatchNames: []string{ns}},
		JqFilter:  `{name: .metadata.name, seq: .metadata.annotations["` + seqAnnotation + `"]}`,
	}, func(ev kube.Event) {
		now := time.Now().UnixNano()
		if ev.Type != kube.EventWatch || len(ev.Objects) != 1 {
			return
		}
		var fr struct{ Seq string }
		if json.Unmarshal(ev.Objects[0].FilterResult, &fr) != nil {
			return
		}
		if i, ok := parseSeq(fr.Seq, prefix); ok && monReceived[i].CompareAndSwap(0, now) {
			monCount.Add(1)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := mon.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer mon.Stop()
	if err := mon.WaitForSync(ctx); err != nil {
		b.Fatal(err)
	}
	runsBefore := hookRunSeconds(b, addr.String())

	// 1,000 updates at 50/s, each on its own ConfigMap, each request in
	// its own goroutine so that a slow response does not delay the next.
	var wg sync.WaitGroup
	errs := make(chan error, latencyUpdates)
	tick := time.NewTicker(latencyInterval)
	for i := range latencyUpdates {
		<-tick.C
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, seqAnnotation, prefix+strconv.Itoa(i))
		name := fmt.Sprintf("cm-%05d", i*kubeWatchObjects/latencyUpdates)
		sent[i].Store(time.Now().UnixNano())
		wg.Go(func() {
			if _, err := cs.CoreV1().ConfigMaps(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				errs <- fmt.Errorf("patching %s: %w", name, err)
			}
		})
	}
	tick.Stop()
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}

	var hookStarts map[int]int64
	waitUntil(b, ctx, "1,000 hook events and informer updates", func() bool {
		hookStarts, _ = readLatencyOut(b, out)
		return countRound(hookStarts, round) == latencyUpdates && receivedCount.Load() == latencyUpdates && monCount.Load() == latencyUpdates
	})
	runsAfter := hookRunSeconds(b, addr.String())
	f.hookRunMS = 1000 * (runsAfter.sum - runsBefore.sum) / (runsAfter.count - runsBefore.count)
	f.bareRunMS = bareHookRunMS(b, filepath.Join(hooksDir, "latency.sh"), dir)
	var hookLat, infLat, monLat []float64
	runs := map[int64]bool{}
	for i := range latencyUpdates {
		start := hookStarts[round*latencyUpdates+i]
		runs[start] = true
		hookLat = append(hookLat, float64(start-sent[i].Load())/1e6)
		infLat = append(infLat, float64(received[i].Load()-sent[i].Load())/1e6)
		monLat = append(monLat, float64(monReceived[i].Load()-sent[i].Load())/1e6)
	}
	f.hook, f.informer, f.monitor, f.hookRuns = percentilesOf(hookLat), percentilesOf(infLat), percentilesOf(monLat), len(runs)
	b.Logf("runtime sync %.0f ms, heap in use %.0f B/object, live heap %.0f B/object", f.syncMS, f.heapPerObj, f.livePerObj)
	b.Logf("update -> hook start:       p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (%d hook runs for %d events, %.1f ms per run; %.1f ms run directly)", f.hook.p50, f.hook.p99, f.hook.max, f.hookRuns, latencyUpdates, f.hookRunMS, f.bareRunMS)
	b.Logf("update -> informer handler: p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms", f.informer.p50, f.informer.p99, f.informer.max)
	b.Logf("update -> Monitor handler:  p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms", f.monitor.p50, f.monitor.p99, f.monitor.max)
	return f
}
