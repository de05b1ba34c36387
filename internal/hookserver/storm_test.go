package hookserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/engine"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// stateBody is a hook that keeps its own view of the watched ConfigMaps in
// $OUT_DIR/<name>-state.json (name -> .data.v), built only from what its
// binding contexts said: a Synchronization replaces the view, an event
// updates one entry, and a Group context replaces it with the snapshot. It
// also appends {contexts, syncs} per run to $OUT_DIR/<name>-runs, before the
// view is replaced, so a current view means a complete runs file.
func stateBody(name string) string {
	return fmt.Sprintf(`state="$OUT_DIR/%[1]s-state.json"
[[ -f "$state" ]] || echo '{}' > "$state"
jq -c --slurpfile s "$state" '
  def view: reduce .[] as $o ({}; .[$o.filterResult.name] = $o.filterResult.v);
  reduce .[] as $c ($s[0];
    if $c.type == "Synchronization" then ($c.objects | view)
    elif $c.type == "Group" then ($c.snapshots.cms | view)
    elif $c.watchEvent == "Deleted" then del(.[$c.filterResult.name])
    else .[$c.filterResult.name] = $c.filterResult.v end)' "$BINDING_CONTEXT_PATH" > "$state.tmp"
jq -c '{contexts: length, syncs: (map(select(.type == "Synchronization")) | length)}' "$BINDING_CONTEXT_PATH" >> "$OUT_DIR/%[1]s-runs"
mv "$state.tmp" "$state"`, name)
}

// stormBinding is a kubernetes binding on the ConfigMaps of ns whose filter
// result carries the name, so a hook can key its view without full objects.
func stormBinding(ns, extra string) string {
	return `configVersion: v1
kubernetes:
- name: cms
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [` + ns + `]}}
  labelSelector: {matchLabels: {storm: "yes"}}
  jqFilter: '{name: .metadata.name, v: .data.v}'
  keepFullObjectsInMemory: false
` + extra
}

// hookState reads the view a stateBody hook wrote (nil when none yet).
func hookState(t *testing.T, dir, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+"-state.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]string
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("%s state: %v: %s", name, err, b)
	}
	return st
}

// hookRuns reads the per-run lines a stateBody hook appended.
func hookRuns(t *testing.T, dir, name string) (runs, contexts, syncs int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name+"-runs"))
	if os.IsNotExist(err) {
		return 0, 0, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var r struct{ Contexts, Syncs int }
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%s runs: %v", name, err)
		}
		runs++
		contexts += r.Contexts
		syncs += r.Syncs
	}
	return runs, contexts, syncs
}

// clusterState lists the labelled ConfigMaps of ns as name -> .data.v.
func clusterState(t *testing.T, cs kubernetes.Interface, ns string) map[string]string {
	t.Helper()
	l, err := cs.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "storm=yes"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, cm := range l.Items {
		out[cm.Name] = cm.Data["v"]
	}
	return out
}

func sameState(a, b map[string]string) (bool, string) {
	diff := 0
	example := ""
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			diff++
			example = fmt.Sprintf("%s: hook %q, cluster %q (present %v)", k, v, w, ok)
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			diff++
			example = fmt.Sprintf("%s: missing in hook, cluster %q", k, v)
		}
	}
	return diff == 0, fmt.Sprintf("%d of %d objects differ, e.g. %s", diff, len(b), example)
}

// parallel runs f(i) for i in [0, n) on workers goroutines and fails the
// test with the first error.
func parallel(t *testing.T, n, workers int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

func stormCM(ns string, i int, v string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%03d", i), Namespace: ns, Labels: map[string]string{"storm": "yes"}},
		Data:       map[string]string{"v": v},
	}
}

// TestEventStorm: 5,000 updates to 500 ConfigMaps in a burst, plus deletes
// and creations, end with each hook's view equal to the cluster (no event
// lost, every object's last filter result), one Synchronization each, and a
// queue that never held more than one pending run per hook: runs arriving
// while the hook is busy are combined as they are queued, so a backlog
// costs one task however many events it carries.
func TestEventStorm(t *testing.T) {
	const objects, rounds, churn = 500, 10, 25
	cfg := rest.CopyConfig(testenv.ControlPlane(t).Config)
	cfg.QPS, cfg.Burst = 5000, 5000
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, cfg, "storm")
	ctx := context.Background()
	parallel(t, objects, 32, func(i int) error {
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, stormCM(ns, i, "0"), metav1.CreateOptions{})
		return err
	})

	dir := t.TempDir()
	// events.sh runs in "main" for every event; group.sh gets one Group
	// context with the whole snapshot per (combined) run, in its own queue
	// so the two hooks' runs do not interleave in one queue.
	writeHook(t, dir, "events.sh", stormBinding(ns, ""), stateBody("events"))
	writeHook(t, dir, "group.sh", stormBinding(ns, "  group: storm\n  queue: grouped\n"), stateBody("group"))
	ts := startServer(t, dir)
	ts.waitReady(t)
	want := clusterState(t, cs, ns)
	for _, name := range []string{"events", "group"} {
		testenv.WaitFor(t, 60*time.Second, name+" Synchronization", func() (bool, string) {
			return sameState(hookState(t, ts.outDir, name), want)
		})
	}

	// Sample the queues during the storm: a queue may hold the running
	// task and at most one pending run of its hook.
	stop := make(chan struct{})
	sampled := make(chan queueSample, 1)
	go func() { sampled <- sampleQueues(ts, stop) }()

	patch := func(i int, v string) error {
		body := fmt.Sprintf(`{"data":{"v":%q}}`, v)
		_, err := cs.CoreV1().ConfigMaps(ns).Patch(ctx, fmt.Sprintf("cm-%03d", i), types.MergePatchType, []byte(body), metav1.PatchOptions{})
		return err
	}
	// Each worker updates its ConfigMaps round by round, so every object's
	// last value is known while the requests of all workers interleave.
	parallel(t, objects, 64, func(i int) error {
		for r := 1; r <= rounds; r++ {
			if err := patch(i, fmt.Sprintf("%d-%d", r, i)); err != nil {
				return err
			}
		}
		return nil
	})
	parallel(t, churn, churn, func(i int) error {
		if err := cs.CoreV1().ConfigMaps(ns).Delete(ctx, fmt.Sprintf("cm-%03d", i*7), metav1.DeleteOptions{}); err != nil {
			return err
		}
		_, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, stormCM(ns, objects+i, "new"), metav1.CreateOptions{})
		return err
	})

	want = clusterState(t, cs, ns)
	if len(want) != objects {
		t.Fatalf("cluster holds %d storm ConfigMaps, want %d", len(want), objects)
	}
	for _, name := range []string{"events", "group"} {
		testenv.WaitFor(t, 3*time.Minute, name+" view equal to the cluster", func() (bool, string) {
			return sameState(hookState(t, ts.outDir, name), want)
		})
	}
	// The engine's own snapshot (what the next run would read) matches too.
	for _, h := range []string{"events.sh", "group.sh"} {
		got := map[string]string{}
		for _, o := range ts.currentEngine().Snapshot(h, "cms") {
			var fr struct{ Name, V string }
			if err := json.Unmarshal(o.FilterResult, &fr); err != nil {
				t.Fatal(err)
			}
			got[fr.Name] = fr.V
		}
		if ok, diff := sameState(got, want); !ok {
			t.Errorf("%s engine snapshot: %s", h, diff)
		}
	}
	close(stop)
	s := <-sampled
	t.Logf("queue samples: %d, max pending runs per hook: %v", s.samples, s.maxPending)
	for h, n := range s.maxPending {
		if n > 1 {
			t.Errorf("hook %s had %d pending runs in one queue, want at most 1", h, n)
		}
	}
	for _, name := range []string{"events", "group"} {
		runs, contexts, syncs := hookRuns(t, ts.outDir, name)
		t.Logf("%s: %d runs for %d binding contexts (%d updates, %d deletes, %d creations)", name, runs, contexts, objects*rounds, churn, churn)
		// group.sh gets Group contexts only; events.sh exactly one
		// Synchronization, however busy its queue was.
		if wantSyncs := map[string]int{"events": 1}[name]; syncs != wantSyncs {
			t.Errorf("%s got %d Synchronization contexts, want %d", name, syncs, wantSyncs)
		}
		// Every change moved a filter result, so events.sh gets at most one
		// context per change (fewer only if a relist folded some together):
		// more would be a repeated event.
		if most := 1 + objects*rounds + 2*churn; name == "events" && contexts > most {
			t.Errorf("events got %d binding contexts for %d changes and one Synchronization", contexts, most-1)
		}
	}
}

type queueSample struct {
	samples    int
	maxPending map[string]int // hook -> most HookRun tasks seen waiting at once
}

// sampleQueues polls the queue status until stop is closed.
func sampleQueues(ts *testServer, stop <-chan struct{}) queueSample {
	s := queueSample{maxPending: map[string]int{}}
	for {
		for _, q := range ts.queueStatus() {
			pending := map[string]int{}
			for _, task := range q.Tasks {
				if task.Kind == engine.KindHookRun && !task.Running {
					pending[task.Subject]++
				}
			}
			for h, n := range pending {
				s.maxPending[h] = max(s.maxPending[h], n)
			}
		}
		s.samples++
		select {
		case <-stop:
			return s
		case <-time.After(5 * time.Millisecond):
		}
	}
}
