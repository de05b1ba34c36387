package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/deckhand-dev/deckhand/bench/latencyhook"
)

// seqAnnotation carries each update's sequence number to the hook.
const seqAnnotation = latencyhook.SeqAnnotation

// writeHook writes the hook into dir/hooks and returns that directory.
func writeHook(dir, namespace, records string) (string, error) {
	hooks := filepath.Join(dir, "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return "", fmt.Errorf("creating hooks directory: %w", err)
	}
	path := filepath.Join(hooks, "latency.sh")
	if err := os.WriteFile(path, latencyhook.Script(namespace, strconv.Quote(records)), 0o755); err != nil {
		return "", fmt.Errorf("writing hook %s: %w", path, err)
	}
	return hooks, nil
}

// configMapName is the name of the i-th ConfigMap.
func configMapName(i int) string { return fmt.Sprintf("cm-%05d", i) }

// createConfigMaps creates the namespace and n ConfigMaps in it, each with
// four 250-byte values and an owner label, from 8 parallel clients.
func createConfigMaps(ctx context.Context, cs kubernetes.Interface, ns string, n int) error {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	value := strings.Repeat("x", 250)
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				cm := &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: configMapName(i), Namespace: ns,
						Labels: map[string]string{"owner": fmt.Sprintf("team-%d", i%10)}},
					Data: map[string]string{"a": value, "b": value, "c": value, "d": value},
				}
				if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("creating ConfigMap %s/%s: %w", ns, cm.Name, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs // nil when the channel is empty
}
