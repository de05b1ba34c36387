package hookserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

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
	// Identity of this replica (defaults to hostname + a random suffix).
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
		host, _ := os.Hostname()
		le.Identity = fmt.Sprintf("%s_%d", host, time.Now().UnixNano())
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

// runLeading calls lead with a context that is cancelled when leadership is
// lost, and returns once lead returned. It returns errLostLease if the Lease
// was lost while ctx was still live, so the caller exits and a fresh process
// competes again (two replicas must never both run hooks).
// errLostLease is returned by Run when this replica lost the Lease.
var errLostLease = errors.New("leader election: lease lost, stopped running hooks")

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
	done := make(chan struct{})
	var started atomic.Bool
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   le.LeaseDuration,
		RenewDeadline:   le.RenewDeadline,
		RetryPeriod:     le.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            le.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leadCtx context.Context) {
				started.Store(true)
				defer close(done)
				lead(leadCtx)
			},
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
	if !started.Load() {
		return nil
	}
	<-done
	if ctx.Err() == nil {
		return errLostLease
	}
	return nil
}
