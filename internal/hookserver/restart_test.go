package hookserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// requestLog records the queries of the requests a client sends for one
// path.
type requestLog struct {
	path string
	mu   sync.Mutex
	seen []string
}

// config is cfg sending its requests through l.
func (l *requestLog) config(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == l.path {
				l.mu.Lock()
				l.seen = append(l.seen, r.URL.RawQuery)
				l.mu.Unlock()
			}
			return rt.RoundTrip(r)
		})
	})
	return c
}

// lists counts the requests that read the whole collection: plain lists and
// watches that start with the current objects (client-go's watch-list).
func (l *requestLog) lists() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, q := range l.seen {
		if !strings.Contains(q, "watch=true") || strings.Contains(q, "sendInitialEvents=true") {
			n++
		}
	}
	return n
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAPIServerRestart stops kube-apiserver under a running hook twice and
// changes objects as soon as it is back, racing the binding's reconnect:
// every change reaches the hook exactly once, its view ends equal to the
// cluster, and it got one Synchronization in all (a relisted watch is no new
// Synchronization). Objects cannot change while the only API server is down
// (deckhand has no etcd client), so "missed while down" is played by changes
// made before the binding's watch is back.
func TestAPIServerRestart(t *testing.T) {
	cp := testenv.DedicatedControlPlane(t)
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns := testenv.Namespace(t, cp.Config, "restart")
	ctx := context.Background()
	create := func(name, v string) {
		t.Helper()
		cm := stormCM(ns, 0, v)
		cm.Name = name
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	setV := func(name, v string) {
		t.Helper()
		body := fmt.Sprintf(`{"data":{"v":%q}}`, v)
		if _, err := cs.CoreV1().ConfigMaps(ns).Patch(ctx, name, types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"a", "b", "c"} {
		create(name, "1")
	}

	reqs := &requestLog{path: "/api/v1/namespaces/" + ns + "/configmaps"}
	dir := t.TempDir()
	// Record before updating the view: once the view is current, so is the
	// record.
	writeHook(t, dir, "restart.sh", stormBinding(ns, ""), recordBody("restart")+"\n"+stateBody("restart"))
	ts := startServer(t, dir, func(o *Options) { o.RestConfig = reqs.config(cp.Config) })
	ts.waitReady(t)
	waitView := func(what string) {
		t.Helper()
		want := clusterState(t, cs, ns)
		testenv.WaitFor(t, 2*time.Minute, what, func() (bool, string) {
			return sameState(hookState(t, ts.outDir, "restart"), want)
		})
	}
	waitView("Synchronization")
	restart := func() {
		t.Helper()
		if err := cp.StopAPIServer(); err != nil {
			t.Fatal(err)
		}
		if err := cp.StartAPIServer(); err != nil {
			t.Fatal(err)
		}
	}
	// events are the watch events recorded since the first n contexts,
	// sorted: after a relist they come in name order, from a resumed watch
	// in the order of the changes.
	events := func(from int) (all []map[string]any, got []string) {
		all = ts.contexts(t, "restart")
		for _, bc := range all[min(from, len(all)):] {
			fr, _ := bc["filterResult"].(map[string]any)
			got = append(got, fmt.Sprintf("%v %v=%v", bc["watchEvent"], fr["name"], fr["v"]))
		}
		slices.Sort(got)
		return all, got
	}

	seen := len(ts.contexts(t, "restart"))
	restart()
	setV("a", "2")
	if err := cs.CoreV1().ConfigMaps(ns).Delete(ctx, "b", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	create("d", "1")
	waitView("the changes after the first restart")
	all, got := events(seen)
	if want := []string{"Added d=1", "Deleted b=1", "Modified a=2"}; !slices.Equal(got, want) {
		t.Fatalf("events after the first restart = %q, want %q", got, want)
	}

	seen = len(all)
	restart()
	setV("c", "2")
	setV("d", "2")
	waitView("the changes after the second restart")
	all, got = events(seen)
	if want := []string{"Modified c=2", "Modified d=2"}; !slices.Equal(got, want) {
		t.Fatalf("events after the second restart = %q, want %q", got, want)
	}

	syncs := 0
	for _, bc := range all {
		if bc["type"] == "Synchronization" {
			syncs++
		}
	}
	if syncs != 1 {
		t.Fatalf("%d Synchronization contexts, want 1: %v", syncs, all)
	}
	// The restarted server's watch cache starts after the binding's last
	// resourceVersion, so resuming the watch fails with 410 Gone and the
	// binding lists again: the initial list and one per restart. This is
	// the relist path whose diff delivered the events checked above.
	if n := reqs.lists(); n < 3 {
		t.Fatalf("%d full lists of the watched ConfigMaps, want the initial one and one after each restart; requests: %q", n, reqs.seen)
	}
}
