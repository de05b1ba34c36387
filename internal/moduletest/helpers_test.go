package moduletest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// A small module whose hooks are real bash+jq scripts, as module authors
// write them.
var baseModule = map[string]string{
	"module.yaml": "name: demo\nnamespace: d8-demo\n",
	"Chart.yaml":  "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
	"openapi/config-values.yaml": `type: object
properties:
  greeting:
    type: string
    default: hello
`,
	"openapi/values.yaml": `x-extend:
  schema: config-values.yaml
type: object
properties:
  internal:
    type: object
    default: {}
    properties:
      names:
        type: array
        items: {type: string}
      greeting:
        type: string
`,
	"templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
  namespace: d8-demo
data:
  greeting: {{ .Values.demo.internal.greeting | default "none" | quote }}
`,
	// A kubernetes hook: names of the app=web ConfigMaps in namespace
	// "apps", through a jqFilter, into values, an operation and a metric.
	"hooks/cms.sh": `#!/usr/bin/env bash
set -euo pipefail
if [[ "${1:-}" == "--config" ]]; then
  cat <<'EOF'
configVersion: v1
kubernetes:
  - name: cms
    kind: ConfigMap
    namespace: {nameSelector: {matchNames: [apps]}}
    labelSelector: {matchLabels: {app: web}}
    keepFullObjectsInMemory: false
    jqFilter: '{"name": .metadata.name, "size": (.data.size // "0" | tonumber)}'
    includeSnapshotsFrom: [secrets]
  - name: secrets
    kind: Secret
    executeHookOnEvent: []
    executeHookOnSynchronization: false
    jqFilter: '.metadata.name'
EOF
  exit 0
fi
names="$(jq -c '[.[-1] | (.objects // [.]) | .[].filterResult.name]' "$BINDING_CONTEXT_PATH")"
jq -nc --argjson n "$names" '[{"op":"add","path":"/demo/internal/names","value":$n}]' >> "$VALUES_JSON_PATCH_PATH"
jq -nc --argjson n "$names" '{"name":"demo_cms","set":($n|length)}' >> "$METRICS_PATH"
cat >> "$KUBERNETES_PATCH_PATH" <<'EOF'
operation: MergePatch
kind: ConfigMap
namespace: apps
name: summary
mergePatch: '{"data":{"seen":"yes"}}'
EOF
`,
	// A lifecycle hook: beforeHelm gets the snapshots of all its bindings.
	"hooks/lifecycle.sh": `#!/usr/bin/env bash
if [[ "${1:-}" == "--config" ]]; then
  cat <<'EOF'
configVersion: v1
beforeHelm: 10
kubernetes:
  - name: nodes
    kind: Node
    jqFilter: '.metadata.labels.zone'
    keepFullObjectsInMemory: false
    executeHookOnEvent: []
EOF
  exit 0
fi
`,
	// An onStartup + schedule hook: greeting from the settings into values;
	// it fails when the greeting is "boom".
	"hooks/greet.sh": `#!/usr/bin/env bash
set -euo pipefail
if [[ "${1:-}" == "--config" ]]; then
  printf 'configVersion: v1\nonStartup: 1\nschedule:\n- name: every-minute\n  crontab: "* * * * *"\n'
  exit 0
fi
g="$(jq -r '.demo.greeting' "$VALUES_PATH")"
if [[ "$g" == boom ]]; then echo "refusing greeting $g" >&2; exit 3; fi
jq -nc --arg g "$g" '{"op":"add","path":"/demo/internal/greeting","value":($g + "!")}' >> "$VALUES_JSON_PATCH_PATH"
`,
}

// writeModule writes baseModule plus files (a nil-content entry removes a
// base file) into a temp dir and returns it; hooks are *.sh, so executable.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	all := map[string]string{}
	for k, v := range baseModule {
		all[k] = v
	}
	for k, v := range files {
		all[k] = v
	}
	testenv.WriteFiles(t, dir, all)
	return dir
}

func runTests(t *testing.T, dir string, tst Test) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := tst.Run(ctx, dir)
	if err != nil {
		t.Fatalf("running tests of %s: %v", dir, err)
	}
	return rep
}

func caseResult(t *testing.T, rep *Report, file string) CaseResult {
	t.Helper()
	for _, c := range rep.Cases {
		if c.File == file {
			return c
		}
	}
	t.Fatalf("no result for %s in %+v", file, rep.Cases)
	return CaseResult{}
}
