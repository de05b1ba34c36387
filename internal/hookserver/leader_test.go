package hookserver

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// Two replicas with one Lease: only the holder runs hooks; the other takes
// over when the holder stops.
func TestLeaderElection(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	leaseNS := testenv.Namespace(t, cfg, "lease")
	dir := t.TempDir()
	shared := t.TempDir()
	writeHook(t, dir, "startup.sh", "configVersion: v1\nonStartup: 1", `echo "$SERVER_ID" >> "`+shared+`/runs"`)
	replica := func(id string) serverOpt {
		return func(o *Options) {
			o.Env = append(o.Env, "SERVER_ID="+id)
			o.LeaderElection = &LeaderElection{Namespace: leaseNS, Name: "hooks", Identity: id,
				LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: time.Second}
		}
	}
	runs := func() string {
		b, _ := os.ReadFile(filepath.Join(shared, "runs"))
		return string(b)
	}
	a := startServer(t, dir, replica("replica-a"))
	testenv.WaitFor(t, 60*time.Second, "replica-a to lead and run hooks", func() (bool, string) {
		return runs() == "replica-a\n", runs()
	})
	b := startServer(t, dir, replica("replica-b"))
	testenv.WaitFor(t, 60*time.Second, "replica-b to stand by", func() (bool, string) {
		_, body := b.get(t, "/debug/queues")
		var reply QueuesReply
		_ = json.Unmarshal([]byte(body), &reply)
		return reply.Role == "standby (leader: replica-a)", body
	})
	if got := runs(); got != "replica-a\n" {
		t.Fatalf("hooks ran on the standby replica: %q", got)
	}
	a.stop(t)
	testenv.WaitFor(t, 60*time.Second, "replica-b to take over", func() (bool, string) {
		return runs() == "replica-a\nreplica-b\n", runs()
	})
	testenv.WaitFor(t, 60*time.Second, "replica-b to report itself leader", func() (bool, string) {
		_, body := b.get(t, "/debug/queues")
		return strings.Contains(body, `"role": "leader"`), body
	})
}

// The Lease stays with the leader until lead has returned, so a standby
// cannot start hooks while the old leader still finishes a run; then it is
// given up at once (no holder, one second).
func TestLeaseReleasedOnlyAfterLeadReturned(t *testing.T) {
	cfg := testenv.ControlPlane(t).Config
	ns := testenv.Namespace(t, cfg, "lease-release")
	le := LeaderElection{Namespace: ns, Name: "hooks", Identity: "replica-a",
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: time.Second}
	leading := make(chan struct{})
	stopping := make(chan struct{})
	finish := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runLeading(ctx, cfg, le, func(string) {}, func(leadCtx context.Context) {
			close(leading)
			<-leadCtx.Done()
			close(stopping)
			<-finish // a hook run still finishing
		})
	}()
	select {
	case <-leading:
	case <-time.After(60 * time.Second):
		t.Fatal("replica-a did not lead")
	}
	cancel()
	<-stopping
	cs := clientset(t)
	lease := func() (string, int32) {
		l, err := cs.CoordinationV1().Leases(ns).Get(context.Background(), "hooks", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var holder string
		var secs int32
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		if l.Spec.LeaseDurationSeconds != nil {
			secs = *l.Spec.LeaseDurationSeconds
		}
		return holder, secs
	}
	if holder, _ := lease(); holder != "replica-a" {
		t.Fatalf("lease released while lead is still running: holder %q", holder)
	}
	select {
	case err := <-done:
		t.Fatalf("runLeading returned (%v) before lead did", err)
	default:
	}
	close(finish)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runLeading: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("runLeading did not return")
	}
	if holder, secs := lease(); holder != "" || secs != 1 {
		t.Fatalf("lease not released: holder %q, duration %ds", holder, secs)
	}
}

// lead never starts once the elector returned, and stop waits for a lead
// that did start.
func TestLeadGuard(t *testing.T) {
	var late leadGuard
	if late.stop() {
		t.Fatal("stop reports a lead that never started")
	}
	late.run(context.Background(), func(context.Context) { t.Error("lead started after the elector returned") })

	var g leadGuard
	release := make(chan struct{})
	var finished atomic.Bool
	running := make(chan struct{})
	go g.run(context.Background(), func(context.Context) {
		close(running)
		<-release
		finished.Store(true)
	})
	<-running
	go close(release)
	if !g.stop() {
		t.Fatal("stop does not report the started lead")
	}
	if !finished.Load() {
		t.Fatal("stop returned before lead did")
	}
}

// Replicas without an explicit identity (two processes on one host) never
// share one; an explicit identity (a pod name) is kept.
func TestLeaderIdentityDefaults(t *testing.T) {
	a, b := LeaderElection{}.withDefaults(), LeaderElection{}.withDefaults()
	host, _ := os.Hostname()
	if a.Identity == b.Identity || !strings.HasPrefix(a.Identity, host+"_") {
		t.Fatalf("default identities %q and %q", a.Identity, b.Identity)
	}
	if got := (LeaderElection{Identity: "pod-1"}).withDefaults().Identity; got != "pod-1" {
		t.Fatalf("explicit identity became %q", got)
	}
}
