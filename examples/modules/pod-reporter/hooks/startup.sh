#!/usr/bin/env bash
# onStartup hook: records when the module started in internal values
# (.Values.podReporter.internal.startedAt), which the ConfigMap template shows.
set -euo pipefail

if [[ "${1:-}" == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
onStartup: 10
CONFIG
  exit 0
fi

now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '[{"op":"add","path":"/podReporter/internal/startedAt","value":"%s"}]\n' "$now" >> "$VALUES_JSON_PATCH_PATH"
