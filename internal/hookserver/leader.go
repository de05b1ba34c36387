package hookserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderElection configures the Lease that decides which replica runs hooks.
type LeaderElection struct {
	// Namespace and Name of the Lease (Name defaults to "deckhand-hooks").
	Namespace string
	Name      string
	// Identity of this replica; it must differ between replicas. Empty means
	// hostname + process id + a random suffix, unique even for two processes
	// on one host.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod default to 15s, 10s, 2s.
	LeaseDuration time.Duration
	RenewDeadline time.Duration
	RetryPeriod   time.Duration
}

func (le LeaderElection) withDefaults() LeaderElection {
	if le.Name == "" {
		le.Name = "deckhand-hooks"
	}
	if le.Identity == "" {
		le.Identity = uniqueIdentity()
	}
	if le.LeaseDuration == 0 {
		le.LeaseDuration = 15 * time.Second
	}
	if le.RenewDeadline == 0 {
		le.RenewDeadline = 10 * time.Second
	}
	if le.RetryPeriod == 0 {
		le.RetryPeriod = 2 * time.Second
	}
	return le
}

// errLostLease is returned by Run when this replica lost the Lease.
var errLostLease = errors.New("leader election: lease lost, stopped running hooks")

// releaseTimeout bounds the final update that gives the Lease up.
const releaseTimeout = 10 * time.Second

// uniqueIdentity returns hostname_pid_random.
func uniqueIdentity() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "deckhand"
	}
	return fmt.Sprintf("%s_%d_%s", host, os.Getpid(), rand.Text()[:10])
}

// runLeading calls lead with a context that is cancelled when leadership is
// lost, and returns once lead returned. Only then, with no hook running any
// more, it gives the Lease up so a standby takes over at once (the elector's
// own ReleaseOnCancel would release it while lead is still stopping). It
// returns errLostLease if the Lease was lost while ctx was still live, so
// the caller exits and a fresh process competes again (two replicas must
// never both run hooks).
func runLeading(ctx context.Context, cfg *rest.Config, le LeaderElection, onLeader func(identity string), lead func(ctx context.Context)) error {
	le = le.withDefaults()
	if le.Namespace == "" {
		return fmt.Errorf("leader election: lease namespace is required")
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("leader election: creating client: %w", err)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: le.Namespace, Name: le.Name},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: le.Identity},
	}
	var guard leadGuard
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   le.LeaseDuration,
		RenewDeadline:   le.RenewDeadline,
		RetryPeriod:     le.RetryPeriod,
		ReleaseOnCancel: false,
		Name:            le.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leadCtx context.Context) { guard.run(leadCtx, lead) },
			OnStoppedLeading: func() {},
			OnNewLeader:      onLeader,
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	// Run returns when ctx is done or the Lease could not be renewed; in both
	// cases the context given to lead is cancelled first.
	elector.Run(ctx)
	guard.stop()
	relErr := releaseLease(ctx, lock, le.Identity)
	// Run returns with ctx live only after it held and lost the Lease.
	if ctx.Err() == nil {
		return errors.Join(errLostLease, relErr)
	}
	return relErr
}

// releaseLease gives the Lease up if this replica still holds it: no holder
// and a one-second duration, so a standby acquires it on its next retry.
// The update carries the read resourceVersion, so it never overwrites a
// Lease another replica has taken meanwhile.
func releaseLease(ctx context.Context, lock *resourcelock.LeaseLock, identity string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	rec, _, err := lock.Get(ctx)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("leader election: releasing lease %s: %w", lock.Describe(), err)
	}
	if rec.HolderIdentity != identity {
		return nil
	}
	now := metav1.Now()
	err = lock.Update(ctx, resourcelock.LeaderElectionRecord{
		LeaseDurationSeconds: 1,
		AcquireTime:          now,
		RenewTime:            now,
		LeaderTransitions:    rec.LeaderTransitions,
	})
	if err != nil && !apierrors.IsConflict(err) {
		return fmt.Errorf("leader election: releasing lease %s: %w", lock.Describe(), err)
	}
	return nil
}

// leadGuard starts lead from the elector's callback goroutine unless the
// elector has returned already, and lets runLeading wait for it: no engine
// goroutine outlives runLeading.
type leadGuard struct {
	mu       sync.Mutex
	returned bool
	started  bool
	wg       sync.WaitGroup
}

// run calls lead unless stop was called first.
func (g *leadGuard) run(ctx context.Context, lead func(context.Context)) {
	g.mu.Lock()
	if g.returned {
		g.mu.Unlock()
		return
	}
	g.started = true
	g.wg.Add(1)
	g.mu.Unlock()
	defer g.wg.Done()
	lead(ctx)
}

// stop keeps later run calls from starting lead, waits for a running one
// and reports whether lead ran.
func (g *leadGuard) stop() bool {
	g.mu.Lock()
	g.returned = true
	started := g.started
	g.mu.Unlock()
	g.wg.Wait()
	return started
}
