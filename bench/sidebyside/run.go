package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/localenv"
)

const namespace = "sidebyside"

// run sets up the control plane, the objects and the hook once, measures
// deckhand then shell-operator in each round, and prints the report.
func run(ctx context.Context, o options) (err error) {
	if err := o.validate(); err != nil {
		return err
	}
	rep := report{ShellOperator: o.shellOperator, Objects: o.objects, Updates: o.updates, Rate: o.rate, LoadAverageStart: loadAverage()}
	work, err := os.MkdirTemp("", "deckhand-sidebyside-")
	if err != nil {
		return fmt.Errorf("creating work directory: %w", err)
	}
	defer func() {
		if o.keep {
			progress("kept %s", work)
			return
		}
		_ = os.RemoveAll(work)
	}()

	deckhand := o.deckhand
	if deckhand == "" {
		progress("building ./cmd/deckhand")
		if deckhand, err = buildDeckhand(ctx, work); err != nil {
			return err
		}
	}
	rep.Deckhand = deckhand

	cp, err := localenv.StartControlPlane(ctx, localenv.ControlPlaneOptions{Progress: os.Stderr, KubeconfigPath: filepath.Join(work, "kubeconfig")})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cp.Stop()) }()
	rep.KubernetesVersion = cp.Version
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating a client: %w", err)
	}
	progress("creating %d ConfigMaps in namespace %s", o.objects, namespace)
	if err := createConfigMaps(ctx, cs, namespace, o.objects); err != nil {
		return err
	}
	// Warm the API server's watch cache for the namespace so that whichever
	// runtime lists first is not charged for it.
	if _, err := cs.CoreV1().ConfigMaps(namespace).List(ctx, metav1.ListOptions{ResourceVersion: "0"}); err != nil {
		return fmt.Errorf("listing ConfigMaps in %s: %w", namespace, err)
	}

	records := filepath.Join(work, "records")
	hooksDir, err := writeHook(work, namespace, records)
	if err != nil {
		return err
	}
	m := &measurement{opts: o, cs: cs, namespace: namespace, hooksDir: hooksDir, kubeconfig: cp.KubeconfigPath, records: records, work: work}
	specs := []runtimeSpec{deckhandSpec(deckhand), shellOperatorSpec(o.shellOperator)}
	index := 0
	for round := 1; round <= o.rounds; round++ {
		for _, spec := range specs {
			index++
			progress("round %d: %s (load average %s)", round, spec.name, loadAverage())
			res, err := m.run(ctx, spec, round, index)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round, spec.name, err)
			}
			progress("round %d: %s: sync %.0f ms, RSS %.1f/%.1f/peak %.1f MiB, p50 %.1f ms, p99 %.1f ms, max %.1f ms (%d events, %d runs; machine busy %.2f cores)",
				round, spec.name, res.SyncMS, res.RSSAfterSyncMiB, res.RSSAfterIdleMiB, res.PeakRSSMiB,
				res.LatencyMS.P50, res.LatencyMS.P99, res.LatencyMS.Max, res.Events, res.HookRuns, res.BusyCores)
			rep.Runs = append(rep.Runs, res)
		}
	}
	rep.LoadAverageEnd = loadAverage()
	rep.summarize()
	if o.jsonFile != "" {
		if err := rep.writeJSON(o.jsonFile); err != nil {
			return err
		}
	}
	return rep.print(os.Stdout, o.output)
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// loadAverage is the first three fields of /proc/loadavg, or why not.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown: " + err.Error()
	}
	f := strings.Fields(string(data))
	return strings.Join(f[:min(3, len(f))], " ")
}
