package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/deckhand-dev/deckhand/api/crds"
	"github.com/deckhand-dev/deckhand/internal/operator"
	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/deckhand-dev/deckhand/internal/release"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// BenchmarkPushToServing is the publisher's round trip: `deckhand module
// push` of a new version to the channel a running operator follows, until
// the new release is Deployed and the module serves it (its ConfigMap
// shows the version). The operator scans every second, as `deckhand dev`
// does (3 minutes by default in a cluster: the scan interval is most of a
// real deploy's latency).
func BenchmarkPushToServing(b *testing.B) {
	cp := testenv.ControlPlane(b)
	reg := testenv.DockerRegistry(b)
	ctx := context.Background()
	if err := crds.Install(ctx, cp.Config); err != nil {
		b.Fatal(err)
	}
	ns := testenv.Namespace(b, cp.Config, "p2s")
	source := reg.Addr + "/" + ns + "/modules"
	// Module objects are cluster-wide: each run has its own module.
	mod := testenv.ModuleName("pushed", ns)
	work := b.TempDir()
	publish := func(version string) time.Duration {
		dir := filepath.Join(work, version)
		testenv.WriteFiles(b, dir, map[string]string{
			"module.yaml": "name: " + mod + "\nweight: 100\n",
			"Chart.yaml":  "apiVersion: v2\nname: " + mod + "\nversion: 0.1.0\n",
			"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pushed\n  namespace: " + ns +
				"\ndata:\n  version: \"" + version + "\"\n",
		})
		start := time.Now()
		if _, err := registry.PublishModule(ctx, dir, source, version, "stable"); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	publish("v1.0.0")
	opCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = operator.Run(opCtx, operator.Options{
			RestConfig: cp.Config, DownloadedDir: filepath.Join(work, "downloaded"), Namespace: ns, ConfigMap: "-",
			MetricsAddr: "0", ProbeAddr: "0", ScanInterval: time.Second, Metrics: prometheus.NewRegistry(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	})
	b.Cleanup(func() { cancel(); wg.Wait() })
	c, err := operator.NewClient(cp.Config)
	if err != nil {
		b.Fatal(err)
	}
	if err := operator.ApplyDev(ctx, c, operator.DevSource{Name: ns, Repo: source, Channel: "Stable", Modules: []string{mod}}); err != nil {
		b.Fatal(err)
	}
	if _, err := operator.WaitVersion(ctx, c, mod, "v1.0.0", 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	kc := kubernetes.NewForConfigOrDie(cp.Config)
	b.ResetTimer()
	var total, push time.Duration
	for i := 0; i < b.N; i++ {
		version := fmt.Sprintf("v1.%d.0", i+1)
		start := time.Now()
		push += publish(version)
		if _, err := operator.WaitVersion(ctx, c, mod, version, 2*time.Minute); err != nil {
			b.Fatal(err)
		}
		cm, err := kc.CoreV1().ConfigMaps(ns).Get(ctx, "pushed", metav1.GetOptions{})
		if err != nil || cm.Data["version"] != version {
			b.Fatalf("after %s the ConfigMap says %v (%v)", version, cm.Data, err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/push-to-serving")
	b.ReportMetric(push.Seconds()/float64(b.N), "s/push")
	b.Logf("push to serving: %.2fs per version (the push itself %.2fs; scan interval 1s)", total.Seconds()/float64(b.N), push.Seconds()/float64(b.N))
}

// countingTransport counts the HTTP requests a registry client sends.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// BenchmarkSourceScan200 scans a source of 200 modules, each enabled with a
// release on the stable channel: one ModuleSource reconcile lists the
// catalogue, registers 200 Module objects, reads 200 channel release images
// and creates 200 ModuleReleases. Reported: requests sent to the registry
// and the time, next to the floor measured in the same run: a plain tag
// listing with the crane API of the same repositories (the catalogue and
// each module's release repository), which reads less than the scan needs
// (no release image) and writes nothing to the API server.
func BenchmarkSourceScan200(b *testing.B) {
	const n = 200
	cp := testenv.ControlPlane(b)
	reg := testenv.DockerRegistry(b)
	ctx := context.Background()
	if err := crds.Install(ctx, cp.Config); err != nil {
		b.Fatal(err)
	}
	ns := testenv.Namespace(b, cp.Config, "scan")
	source := reg.Addr + "/" + ns + "/modules"
	// 200 modules: index tag + release image on stable (the scan does not
	// read module images).
	names := make([]string, n)
	prefix := testenv.ModuleName("scan", ns)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range names {
		names[i] = fmt.Sprintf("%s%03d", prefix, i)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			img, err := crane.Image(map[string][]byte{"version.json": []byte(`{"version":"v1.0.0"}`)})
			if err != nil {
				b.Error(err)
				return
			}
			for _, ref := range []string{source + "/" + names[i] + "/release:v1.0.0", source + "/" + names[i] + "/release:stable"} {
				if err := crane.Push(img, ref, crane.Insecure); err != nil {
					b.Error(err)
					return
				}
			}
			if err := crane.Push(empty.Image, source+":"+names[i], crane.Insecure); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	c, err := operator.NewClient(cp.Config)
	if err != nil {
		b.Fatal(err)
	}
	if err := operator.ApplyDev(ctx, c, operator.DevSource{Name: ns, Repo: source, Channel: "Stable", Modules: names}); err != nil {
		b.Fatal(err)
	}
	metrics, _ := release.NewMetrics(nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ct := &countingTransport{next: remote.DefaultTransport}
		r := &release.SourceReconciler{
			Client: c, Registries: &release.Registries{Options: []registry.Option{registry.WithTransport(ct)}},
			Metrics: metrics, Recorder: record.NewFakeRecorder(10 * n), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}
		start := time.Now()
		if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Name: ns}}); err != nil {
			b.Fatal(err)
		}
		scan := time.Since(start)
		scanReqs := ct.n.Load()

		fc := &countingTransport{next: remote.DefaultTransport}
		start = time.Now()
		opts := []crane.Option{crane.Insecure, crane.WithTransport(fc)}
		if _, err := crane.ListTags(source, opts...); err != nil {
			b.Fatal(err)
		}
		for _, m := range names {
			if _, err := crane.ListTags(source+"/"+m+"/release", opts...); err != nil {
				b.Fatal(err)
			}
		}
		floor := time.Since(start)
		b.ReportMetric(scan.Seconds(), "s/scan")
		b.ReportMetric(float64(scanReqs), "requests/scan")
		b.ReportMetric(floor.Seconds(), "s-floor")
		b.ReportMetric(float64(fc.n.Load()), "requests-floor")
		kind := "first scan (creates the Module objects and releases)"
		if i > 0 {
			kind = "re-scan (nothing changed)"
		}
		b.Logf("%s of %d modules: %.2fs, %d registry requests; floor (crane tag listing of the same %d repositories) %.2fs, %d requests",
			kind, n, scan.Seconds(), scanReqs, n+1, floor.Seconds(), fc.n.Load())
	}
}
