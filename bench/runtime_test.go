package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/api/crds"
	"github.com/deckhand-dev/deckhand/internal/runtime"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// The module runtime (internal/runtime) run inside the benchmark process,
// against the test kube-apiserver, with the workload: N modules of a
// chart of 10 ConfigMaps each, no hooks, all enabled by the modules
// directory's values.yaml. (modules_converge_test.go measures the same
// through the deckhand binary as a child process.) The API server and etcd
// are other processes; the RSS figures are this process's: the runtime plus
// the test harness (the testing package, the benchmark's own clients, the
// memory sampler) and the test binary's mapped code.

func BenchmarkRuntimeColdConverge50(b *testing.B)   { rtColdConverge(b, 50) }
func BenchmarkRuntimeColdConverge1000(b *testing.B) { rtColdConverge(b, 1000) }

// rtEnv is the shared API server with deckhand's CRDs installed.
func rtEnv(b *testing.B) (*rest.Config, kubernetes.Interface, dynamic.Interface) {
	b.Helper()
	cfg := testenv.ControlPlane(b).Config
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := crds.Install(ctx, cfg); err != nil {
		b.Fatalf("installing CRDs: %v", err)
	}
	fast := rest.CopyConfig(cfg)
	fast.QPS, fast.Burst = -1, 0
	return cfg, kubernetes.NewForConfigOrDie(fast), dynamic.NewForConfigOrDie(fast)
}

func rtLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
}

// rtColdConverge times runtime.New + Runtime.RunOnce over n fresh modules
// in a fresh namespace, twice: with ModuleConfigs (deckhand run's default:
// ModuleConfig objects are read and one Module object per module is
// written before RunOnce returns) and on the ConfigMap alone.
func rtColdConverge(b *testing.B, n int) {
	cfg, cs, dyn := rtEnv(b)
	for _, mc := range []bool{true, false} {
		b.Run(fmt.Sprintf("moduleconfigs=%v", mc), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				mods := rtWriteModules(b, n)
				ns := testenv.Namespace(b, cfg, "rt-cold")
				reg := prometheus.NewRegistry()
				mem := rtStartMemory(b)
				b.StartTimer()
				what := fmt.Sprintf("cold%d-mc=%v", n, mc)
				stopProfile := rtCPUProfile(b, what)
				start := time.Now()
				rt, err := runtime.New(runtime.Options{
					ModulesDirs:   []string{mods.dir},
					Namespace:     ns,
					ModuleConfigs: mc,
					RestConfig:    cfg,
					Logger:        rtLogger(),
					Registry:      reg,
				})
				if err != nil {
					b.Fatal(err)
				}
				discovered := time.Since(start)
				sum, err := rt.RunOnce(context.Background())
				wall := time.Since(start)
				b.StopTimer()
				stopProfile()
				mem.end()
				rtHeapProfile(b, what)
				goruntime.KeepAlive(rt)
				if err != nil {
					b.Fatal(err)
				}
				if sum.Failed != 0 {
					b.Fatalf("%d modules failed: %+v", sum.Failed, sum.Modules[0])
				}
				all, initial := rtCountConfigMaps(b, cs, ns, mods.prefix(), "initial")
				if all != n*rtCMsPerModule || initial != all {
					b.Fatalf("%d ConfigMaps (%d with v=initial) in %s, want %d", all, initial, ns, n*rtCMsPerModule)
				}
				upgrades, _ := rtGather(b, reg, "deckhand_module_helm_upgrades_total", "module")
				if upgrades != float64(n) {
					b.Fatalf("%v Helm installs, want %d", upgrades, n)
				}
				if mc {
					list, err := dyn.Resource(runtime.ModuleGVR).List(context.Background(), metav1.ListOptions{})
					if err != nil {
						b.Fatal(err)
					}
					mine := 0
					for _, m := range list.Items {
						if len(m.GetName()) > len(mods.prefix()) && m.GetName()[:len(mods.prefix())] == mods.prefix() {
							mine++
						}
					}
					if mine != n {
						b.Fatalf("%d Module objects, want %d", mine, n)
					}
					rtDeleteModules(dyn, mods.names)
				}
				b.ReportMetric(wall.Seconds(), "s/converge")
				b.ReportMetric(float64(wall.Nanoseconds())/float64(n), "ns/module")
				b.ReportMetric(discovered.Seconds(), "s-New")
				mem.report(b)
				b.Logf("%d modules x %d ConfigMaps, ModuleConfigs %v: New %.2fs + RunOnce %.2fs = %.2fs (%.1f ms/module); %d ConfigMaps, %v installs; %s (%d samples)",
					n, rtCMsPerModule, mc, discovered.Seconds(), (wall - discovered).Seconds(), wall.Seconds(), float64(wall.Microseconds())/1000/float64(n),
					all, upgrades, mem.summary(), mem.samples)
				b.StartTimer()
			}
		})
	}
}

// rtResync is the steady-state benchmark's resync period: long enough that
// the first tick comes after the cold converge and the one-module change.
const rtResync = 90 * time.Second

// BenchmarkRuntimeSteadyState1000 converges 1,000 modules with a
// long-running Runtime.Run (ModuleConfigs on), then (a) changes one
// module's settings through addon-operator's ConfigMap and times until its
// ConfigMaps change, checking that it alone was upgraded, and (b) waits for
// the next resync pass over the 1,000 unchanged modules, times it and
// checks that it upgraded nothing.
func BenchmarkRuntimeSteadyState1000(b *testing.B) {
	const n = 1000
	cfg, cs, dyn := rtEnv(b)
	for range b.N {
		b.StopTimer()
		mods := rtWriteModules(b, n)
		ns := testenv.Namespace(b, cfg, "rt-steady")
		reg := prometheus.NewRegistry()
		mem := rtStartMemory(b)
		b.StartTimer()
		start := time.Now()
		rt, err := runtime.New(runtime.Options{
			ModulesDirs:   []string{mods.dir},
			Namespace:     ns,
			ModuleConfigs: true,
			RestConfig:    cfg,
			Logger:        rtLogger(),
			Registry:      reg,
			Resync:        rtResync,
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		runDone := make(chan error, 1)
		go func() { runDone <- rt.Run(ctx) }()
		upgrades := func() (float64, map[string]float64) {
			return rtGather(b, reg, "deckhand_module_helm_upgrades_total", "module")
		}
		queued := func() float64 {
			s, _ := rtGather(b, reg, "deckhand_tasks_queue_length", "queue")
			return s
		}
		rtWait(b, 10*time.Minute, 100*time.Millisecond, "every module installed", func() bool {
			u, _ := upgrades()
			return u >= n && queued() == 0
		})
		cold := time.Since(start)
		rtHeapProfile(b, "steady1000-after-cold")
		all, _ := rtCountConfigMaps(b, cs, ns, mods.prefix(), "initial")
		if all != n*rtCMsPerModule {
			b.Fatalf("%d ConfigMaps after the cold converge, want %d", all, n*rtCMsPerModule)
		}
		// Let the status writer finish the Module objects so it does not
		// share the API server with the measurement below.
		rtWait(b, 5*time.Minute, time.Second, "every Module object Ready", func() bool {
			list, err := dyn.Resource(runtime.ModuleGVR).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false
			}
			ready := 0
			for _, m := range list.Items {
				st, _ := m.Object["status"].(map[string]any)
				if len(m.GetName()) > len(mods.prefix()) && m.GetName()[:len(mods.prefix())] == mods.prefix() && st != nil && st["phase"] == "Ready" {
					ready++
				}
			}
			return ready == n
		})
		statusDone := time.Since(start)
		if statusDone > rtResync-15*time.Second {
			b.Logf("the cold converge and status took %s, close to the resync period %s: the pass measured below may be the second", statusDone, rtResync)
		}

		// (a) One module's settings change through the ConfigMap key.
		target := n / 2
		name, key := mods.names[target], mods.keys[target]
		changeStart := time.Now()
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "addon-operator"},
			Data:       map[string]string{key: "v: changed\n"},
		}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		rtWait(b, time.Minute, 5*time.Millisecond, name+"'s first ConfigMap changed", func() bool {
			cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name+"-0", metav1.GetOptions{})
			return err == nil && cm.Data["v"] == "changed"
		})
		oneModule := time.Since(changeStart)
		rtWait(b, time.Minute, 100*time.Millisecond, "the reconcile finished", func() bool { return queued() == 0 })
		time.Sleep(3 * time.Second) // a stray reconcile of another module would show by now
		afterChange, byModule := upgrades()
		if afterChange != n+1 || byModule[name] != 2 {
			b.Fatalf("after one module's change: %v upgrades in all (want %d), %v of %s (want 2)", afterChange, n+1, byModule[name], name)
		}
		all, changed := rtCountConfigMaps(b, cs, ns, mods.prefix(), "changed")
		if all != n*rtCMsPerModule || changed != rtCMsPerModule {
			b.Fatalf("%d ConfigMaps, %d changed; want %d and %d", all, changed, n*rtCMsPerModule, rtCMsPerModule)
		}

		// (b) The next resync pass over 1,000 unchanged modules: from the
		// first poll that sees tasks queued to the first that sees none
		// (polls every 100 ms; each gathers the registry, about 1,000 series
		// of queue lengths and upgrades, which is counted in the pass's CPU).
		rtWait(b, rtResync+time.Minute, 100*time.Millisecond, "a resync pass to start", func() bool { return queued() > 0 })
		stopProfile := rtCPUProfile(b, "resync1000")
		passStart := time.Now()
		cpu0 := rtCPU(b)
		peakQueued := 0.0
		rtWait(b, 10*time.Minute, 100*time.Millisecond, "the resync pass to finish", func() bool {
			q := queued()
			peakQueued = max(peakQueued, q)
			return q == 0
		})
		pass := time.Since(passStart)
		passCPU := rtCPU(b) - cpu0
		stopProfile()
		time.Sleep(time.Second)
		afterResync, _ := upgrades()
		b.StopTimer()
		cancel()
		if err := <-runDone; err != nil {
			b.Fatal(err)
		}
		mem.end()
		if afterResync != afterChange {
			b.Fatalf("a resync of %d unchanged modules upgraded %v releases", n, afterResync-afterChange)
		}
		rtDeleteModules(dyn, mods.names)
		b.ReportMetric(cold.Seconds(), "s-cold")
		b.ReportMetric(oneModule.Seconds()*1000, "ms-one-module")
		b.ReportMetric(pass.Seconds(), "s-resync-pass")
		b.ReportMetric(passCPU.Seconds(), "s-CPU-resync-pass")
		mem.report(b)
		b.Logf("%d modules: cold converge (Run) %.1fs, Module objects all Ready at %.1fs; one module's settings (ConfigMap key %s) -> its ConfigMap changed in %.0f ms, upgrades +%v (that module alone); resync pass over %d unchanged modules: %.2fs wall, %.2fs CPU of this process, peak %v tasks queued, 0 upgrades; %s",
			n, cold.Seconds(), statusDone.Seconds(), key, oneModule.Seconds()*1000, afterChange-n, n, pass.Seconds(), passCPU.Seconds(), peakQueued, mem.summary())
		b.StartTimer()
	}
}
