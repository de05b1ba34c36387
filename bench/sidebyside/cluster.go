package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// seqAnnotation carries each update's sequence number to the hook, through
// the jqFilter.
const seqAnnotation = "bench.deckhand.io/seq"

// hookScript is the hook both runtimes run, the one BenchmarkHookEventLatency
// uses: bash + jq, one kubernetes binding on the ConfigMaps of one namespace
// with keepFullObjectsInMemory=false and a jqFilter that carries the seq
// annotation. Its first command takes the time; then it appends
// "<seq> <start-ns>" per Event object (and "sync <start-ns>" for
// Synchronization) to the records file. Arguments: namespace, annotation,
// records file.
const hookScript = `#!/usr/bin/env bash
start=$(date +%%s%%N)
set -euo pipefail
if [[ "${1:-}" == "--config" ]]; then
cat <<'EOF'
configVersion: v1
kubernetes:
- name: cms
  apiVersion: v1
  kind: ConfigMap
  namespace: {nameSelector: {matchNames: [%s]}}
  keepFullObjectsInMemory: false
  executeHookOnSynchronization: true
  jqFilter: '{name: .metadata.name, seq: .metadata.annotations["%s"]}'
EOF
exit 0
fi
jq -r --arg start "$start" '.[] | if .type == "Synchronization" then "sync \($start)" elif .type == "Event" then "\(.filterResult.seq) \($start)" else empty end' "$BINDING_CONTEXT_PATH" >> %q
`

// writeHook writes the hook into dir/hooks and returns that directory.
func writeHook(dir, namespace, records string) (string, error) {
	hooks := filepath.Join(dir, "hooks")
	if err := os.MkdirAll(hooks, 0o755); err != nil {
		return "", fmt.Errorf("creating hooks directory: %w", err)
	}
	path := filepath.Join(hooks, "latency.sh")
	if err := os.WriteFile(path, fmt.Appendf(nil, hookScript, namespace, seqAnnotation, records), 0o755); err != nil {
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
