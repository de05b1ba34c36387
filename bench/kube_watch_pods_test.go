package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/kube"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// kubeWatchPods is the number of Pods BenchmarkKubeWatchPods watches.
const kubeWatchPods = 3000

// BenchmarkKubeWatchPods is BenchmarkKubeWatch on objects shaped like a
// real cluster's: Pods with two containers and a 2 KiB
// last-applied-configuration annotation, watched by a kube.Monitor whose
// jqFilter reads three fields, next to a typed Pod informer in the same run.
// Here most of each object is never read, so the Monitor decodes and
// converts only what the filter reaches (see internal/kube/wirefilter.go).
func BenchmarkKubeWatchPods(b *testing.B) {
	cfg := rest.CopyConfig(testenv.ControlPlane(b).Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	ns := testenv.Namespace(b, cfg, "bench-pods")
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	createPods(b, cs, ns, kubeWatchPods)
	client, err := kube.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := client.Resolve("v1", "Pod"); err != nil {
		b.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{ResourceVersion: "0"}); err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	for b.Loop() {
		monitor := monitorWatch(b, client, "Pod", ns, `{name: .metadata.name, phase: .status.phase, images: [.spec.containers[].image]}`)
		typedInformer := func(ctx context.Context) (int, func()) {
			f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
			return runInformer(b, ctx, f.Core().V1().Pods().Informer())
		}
		var mon, typed []watchFigures
		for round := range kubeWatchRounds {
			if round%2 == 0 {
				mon = append(mon, measureWatch(b, "monitor", kubeWatchPods, monitor))
				typed = append(typed, measureWatch(b, "typed informer", kubeWatchPods, typedInformer))
			} else {
				typed = append(typed, measureWatch(b, "typed informer", kubeWatchPods, typedInformer))
				mon = append(mon, measureWatch(b, "monitor", kubeWatchPods, monitor))
			}
		}
		logPasses(b, "monitor", mon)
		logPasses(b, "typed informer", typed)
		m, t := median(mon), median(typed)
		b.Logf("medians of %d passes: monitor sync %.1f ms (CPU %.1f ms, heap %.0f B/object), typed informer sync %.1f ms (CPU %.1f ms, heap %.0f B/object); sync ratio %.2f",
			kubeWatchRounds, m.syncMS, m.cpuMS, m.heapPerObj, t.syncMS, t.cpuMS, t.heapPerObj, m.syncMS/t.syncMS)
		b.ReportMetric(m.syncMS, "monitor-sync-ms")
		b.ReportMetric(t.syncMS, "typedinformer-sync-ms")
		b.ReportMetric(m.cpuMS, "monitor-cpu-ms")
		b.ReportMetric(t.cpuMS, "typedinformer-cpu-ms")
		b.ReportMetric(m.heapPerObj, "monitor-heap-B/obj")
		b.ReportMetric(t.heapPerObj, "typedinformer-heap-B/obj")
		b.ReportMetric(m.syncMS/t.syncMS, "sync-ratio-vs-typedinformer")
	}
}

// createPods creates n Pods with parallel clients. No kubelet runs here, so
// they stay Pending; the shape is what matters.
func createPods(b *testing.B, cs kubernetes.Interface, ns string, n int) {
	lastApplied := `{"apiVersion":"v1","kind":"Pod","metadata":{"annotations":{},"name":"x"},"spec":` + strings.Repeat(`{"padding":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, 45) + `}`
	container := func(name string) corev1.Container {
		return corev1.Container{
			Name: name, Image: "registry.example.com/team/" + name + ":1.2.3",
			Args: []string{"--listen=:8080", "--log-level=info"},
			Env:  []corev1.EnvVar{{Name: "MODE", Value: "production"}, {Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
			},
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				pod := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("app-%05d", i), Namespace: ns,
						Labels:      map[string]string{"app": "app", "shard": fmt.Sprint(i % 10)},
						Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": lastApplied}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{container("app"), container("sidecar")}},
				}
				if _, err := cs.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
