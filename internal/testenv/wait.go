package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// WaitFor polls check until it reports done or timeout passes. check returns
// what it saw; on timeout the test fails with the description and the last
// thing seen, so a failure says why rather than only "timed out".
func WaitFor(t testing.TB, timeout time.Duration, what string, check func() (done bool, seen string)) {
	t.Helper()
	if err := Poll(context.Background(), timeout, check); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// Poll is WaitFor returning an error instead of failing a test.
func Poll(ctx context.Context, timeout time.Duration, check func() (done bool, seen string)) error {
	deadline := time.Now().Add(timeout)
	interval := 20 * time.Millisecond
	var seen string
	for {
		var done bool
		done, seen = check()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s; last seen: %s", timeout, seen)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last seen: %s", ctx.Err(), seen)
		case <-time.After(interval):
		}
		if interval < 250*time.Millisecond {
			interval *= 2
		}
	}
}

// Namespace creates a namespace with a unique name for one test and deletes it
// after the test. The name starts with prefix.
func Namespace(t testing.TB, cfg *rest.Config, prefix string) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}
