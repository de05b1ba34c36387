#!/usr/bin/env bash
# onStartup and schedule hook: builds .Values.podReporter.internal.banner from
# the settings (greeting and log level), which the ConfigMap template shows.
# It refuses a greeting that contains a line break.
set -euo pipefail

if [[ "${1:-}" == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
onStartup: 5
schedule:
  - name: refresh
    crontab: "*/10 * * * *"
CONFIG
  exit 0
fi

greeting="$(jq -r '.podReporter.greeting // "Hello"' "$CONFIG_VALUES_PATH")"
if [[ "$greeting" == *$'\n'* ]]; then
  echo "greeting must be one line" >&2
  exit 1
fi
level="$(jq -r '.podReporter.logLevel' "$VALUES_PATH")"

jq -nc --arg banner "$greeting ($level)" \
  '{"op":"add","path":"/podReporter/internal/banner","value":$banner}' >> "$VALUES_JSON_PATCH_PATH"
