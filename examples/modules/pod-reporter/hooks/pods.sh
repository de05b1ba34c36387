#!/usr/bin/env bash
# kubernetes hook: keeps the names of the ready pods labelled app=web in
# namespace web in .Values.podReporter.internal.readyPods, mirrors them into
# the ConfigMap pod-reporter-ready and exports their count as a metric.
set -euo pipefail

if [[ "${1:-}" == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
kubernetes:
  - name: pods
    apiVersion: v1
    kind: Pod
    namespace:
      nameSelector:
        matchNames: ["web"]
    labelSelector:
      matchLabels:
        app: web
    keepFullObjectsInMemory: false
    includeSnapshotsFrom: ["pods"]
    jqFilter: |
      {
        "name": .metadata.name,
        "ready": ([.status.conditions[]? | select(.type == "Ready" and .status == "True")] | length > 0)
      }
CONFIG
  exit 0
fi

# Every context carries the fresh snapshot; the last one wins.
ready="$(jq -c '[.[-1].snapshots.pods[].filterResult | select(.ready) | .name]' "$BINDING_CONTEXT_PATH")"

jq -nc --argjson ready "$ready" \
  '[{"op":"add","path":"/podReporter/internal/readyPods","value":$ready}]' >> "$VALUES_JSON_PATCH_PATH"

jq -nc --argjson ready "$ready" \
  '{"name":"pod_reporter_ready_pods","action":"set","value":($ready|length),"labels":{"namespace":"web"}}' >> "$METRICS_PATH"

jq -nc --argjson ready "$ready" '{
  "operation": "CreateOrUpdate",
  "object": {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "pod-reporter-ready", "namespace": "d8-pod-reporter"},
    "data": {"pods": ($ready | join(","))}
  }
}' >> "$KUBERNETES_PATCH_PATH"
