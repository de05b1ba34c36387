#!/usr/bin/env bash
# beforeHelm hook: builds .Values.[% .Key %].internal.banner from the module's
# settings before every Helm render, so a changed ModuleConfig is reflected at
# once. It reads VALUES_PATH (settings with their schema defaults) and writes
# a JSON patch to VALUES_JSON_PATCH_PATH; openapi/values.yaml declares
# internal with `default: {}`, so the `add` always has a parent. The ConfigMap
# template publishes the banner. Same values in, same patch out: the hook is
# deterministic, which is what makes tests/banner/*.yaml possible.
# Needs jq, as DKP's shell hooks do.
set -euo pipefail

if [[ "${1:-}" == "--config" ]]; then
  cat <<'CONFIG'
configVersion: v1
beforeHelm: 10
CONFIG
  exit 0
fi

jq -c '.[% .Key %] | [{
  "op": "add",
  "path": "/[% .Key %]/internal/banner",
  "value": "\(.greeting) (\(.replicas) replica\(if .replicas == 1 then "" else "s" end), log level \(.logLevel))"
}]' "$VALUES_PATH" >> "$VALUES_JSON_PATCH_PATH"
