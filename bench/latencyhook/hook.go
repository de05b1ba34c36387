// Package latencyhook is the bash + jq hook the hook-latency benchmarks run
// (bench.BenchmarkHookEventLatency and the side-by-side program), so both
// measure the same hook.
package latencyhook

import "fmt"

// SeqAnnotation carries each update's sequence number to the hook, through
// the jqFilter.
const SeqAnnotation = "bench.deckhand.io/seq"

// script watches the ConfigMaps of one namespace with
// keepFullObjectsInMemory=false and a jqFilter that carries the update's
// sequence number. Its first command takes the time (date +%s%N); then it
// appends "<seq> <start-ns>" per Event object (and "sync <start-ns>" for
// Synchronization) to the records file.
const script = `#!/usr/bin/env bash
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
jq -r --arg start "$start" '.[] | if .type == "Synchronization" then "sync \($start)" elif .type == "Event" then "\(.filterResult.seq) \($start)" else empty end' "$BINDING_CONTEXT_PATH" >> %s
`

// Script is the hook for namespace; records is the shell word its records
// are appended to, such as "$LATENCY_OUT" or a quoted path.
func Script(namespace, records string) []byte {
	return fmt.Appendf(nil, script, namespace, SeqAnnotation, records)
}
