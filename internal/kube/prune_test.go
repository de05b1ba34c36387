package kube

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/itchyny/gojq"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestJQReads(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   string // "" = no pruning (everything is read)
	}{
		{`{name: .metadata.name, owner: .metadata.labels.owner, size: (.data | length)}`, `{data:# metadata:{labels:{owner:*} name:*}}`},
		{`(.metadata.labels | has("app")), (.data | keys)`, `{data:# metadata:{labels:#}}`},
		{`(.data | length), .data.k`, `{data:#{k:*}}`},
		{`.spec.containers | length`, `{spec:{containers:#}}`},
		{`.metadata.labels`, `{metadata:{labels:*}}`},
		{`.metadata | {name, namespace, labels}`, `{metadata:{labels:* name:* namespace:*}}`},
		{`.spec.containers[] | {name, image}`, `{spec:{containers:{[]:{image:* name:*}}}}`},
		{`.spec.containers | map(.image)`, `{spec:{containers:{[]:{image:*}}}}`},
		{`.spec.ports[0].targetPort`, `{spec:{ports:{[]:{targetPort:*}}}}`},
		{`. as $o | .metadata.name + "/" + $o.kind`, `{kind:* metadata:{name:*}}`},
		{`select(.metadata.labels.a == "b") | .data`, `{data:* metadata:{labels:{a:*}}}`},
		{`if .data then .data.k else "none" end`, `{data:{k:*}}`},
		{`.spec.replicas // 1`, `{spec:{replicas:*}}`},
		{`.metadata.annotations // {} | keys`, `{metadata:{annotations:#}}`},
		{`.metadata | length`, `{metadata:#}`},
		{`"\(.metadata.namespace)/\(.metadata.name)"`, `{metadata:{name:* namespace:*}}`},
		{`.metadata.name as $n | {($n): .spec}`, `{metadata:{name:*} spec:*}`},
		{`.["data"]["k"]?`, `{data:{k:*}}`},
		{`{kind, "apiVersion", $__loc__}`, `{apiVersion:* kind:*}`},
		{`.metadata | del(.managedFields)`, `{metadata:*}`},
		{`.spec.template.spec.containers[0].resources.limits.cpu`, `{spec:{template:{spec:{containers:{[]:{resources:{limits:{cpu:*}}}}}}}}`},
		{`.metadata.labels[.metadata.name]`, `{metadata:{labels:* name:*}}`},
		{`empty`, `{}`},
		{`{name: .metadata.name, at: now, n: [range(.spec.replicas)]}`, `{metadata:{name:*} spec:{replicas:*}}`},
		{`if .a then error("bad: \(.b)") else 1 end`, `{a:{} b:*}`},
		{`error`, ``},
		// Found by review: keys computed in an index or a pattern, and
		// error messages that preview a variable's value.
		{`.data."\(.metadata.labels.k)"`, `{data:* metadata:{labels:{k:*}}}`},
		{`.metadata as $m | .data as {($m.labels.k): $v} | $v`, `{data:* metadata:{labels:{k:*}}}`},
		{`.metadata as $m | .data as {"\($m.labels.k)": $v} | $v`, `{data:* metadata:{labels:{k:*}}}`},
		{`.metadata as $m | reduce 1 as {($m.labels.k): $v} (0; $v)`, ``},
		{`.spec.containers as $c | 1 | try ($c[0].name, $c.x) catch .`, `{spec:{containers:*}}`},
		// Everything: the whole input escapes, or the analysis cannot follow.
		{`.`, ``},
		{`tojson`, ``},
		{`[paths]`, ``},
		{`..`, ``},
		{`keys`, ``},
		{`to_entries`, ``},
		{`try .metadata[0] catch .`, ``},
		{`reduce .items[] as $i (0; . + 1)`, ``},
		{`def f: .a; f`, ``},
		{`.a |= 1`, ``},
		{`. as {metadata: $m} | $m.name`, ``},
		{`.[] | .x`, `{[]:{x:*}}`},
		{`label $out | .a`, ``},
		{`$undefined`, ``},
		{`{a: .}`, ``},
		{`if .a then . else .b end`, ``},
	} {
		q, err := gojq.Parse(tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		got := ""
		if r := jqReads(q); r != nil {
			got = r.String()
		}
		if got != tc.want {
			t.Errorf("jqReads(%s) = %q, want %q", tc.filter, got, tc.want)
		}
	}
}

// TestJQReadsGivesUpOnInitModule: gojq loads a library path named `.jq`
// before the program, and its definitions may replace builtins such as
// select, so nothing can be told of what the program reads.
func TestJQReadsGivesUpOnInitModule(t *testing.T) {
	init := filepath.Join(t.TempDir(), ".jq")
	if err := os.WriteFile(init, []byte("def select(f): .metadata;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	prog, err := compileJQ(`select(true) | .labels.k`, init)
	if err != nil {
		t.Fatal(err)
	}
	if prog.reads != nil {
		t.Fatalf("reads = %s with an init module, want everything", prog.reads)
	}
	out, err := prog.filter(map[string]any{"metadata": map[string]any{"labels": map[string]any{"k": "v"}}})
	if err != nil || string(out) != `"v"` {
		t.Fatalf("the init module's select was not used: %s, %v", out, err)
	}
}

// TestPruneKeepsOnlyReadFields checks that pruning really leaves out what a
// filter does not read, keeps what it reads, and leaves the object as it was.
func TestPruneKeepsOnlyReadFields(t *testing.T) {
	spec, err := compileSpec(WatchSpec{Name: "b", Kind: "ConfigMap",
		JqFilter: `{name: .metadata.name, owner: .metadata.labels.owner, size: (.data | length)}`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	cm.Name, cm.Namespace, cm.ResourceVersion = "n", "ns", "7"
	cm.Labels = map[string]string{"owner": "me", "other": "x"}
	cm.Annotations = map[string]string{"a": "b"}
	cm.Data = map[string]string{"k": "v"}
	cm.BinaryData = map[string][]byte{"b": {1}}
	cm.Finalizers = []string{"f"}
	cm.Generation = 3
	before := cm.DeepCopy()
	m, pruned, err := spec.pruner.toMap(cm)
	if err != nil || !pruned {
		t.Fatalf("pruned conversion: %v (pruned: %v)", err, pruned)
	}
	want := map[string]any{
		"metadata": map[string]any{"name": "n", "labels": map[string]any{"owner": "me", "other": "x"}},
		"data":     map[string]any{"k": "v"},
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("pruned conversion = %v, want %v", m, want)
	}
	if !reflect.DeepEqual(cm, before) {
		t.Errorf("pruning changed the object: %+v", cm)
	}
}

// TestPrunedConversionMatchesJSON runs filters on objects listed from the
// real API server over JSON and over protobuf converted after pruning: the
// outputs must be the same, and a filter fails on both or on neither.
func TestPrunedConversionMatchesJSON(t *testing.T) {
	c, ns := wireObjects(t)
	for _, kind := range wireKinds {
		t.Run(kind, func(t *testing.T) {
			pbItems, jsonItems, gvk := listBothWays(t, c, ns, kind)
			for _, src := range pruneFilters {
				spec, err := compileSpec(WatchSpec{Name: "b", Kind: kind, JqFilter: src}, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i, item := range pbItems {
					pruned, normalized, err := asUnstructured(item.DeepCopyObject(), gvk, spec.pruner)
					if err != nil {
						t.Fatal(err)
					}
					name := fmt.Sprintf("%s %s, filter %s", kind, jsonItems[i].GetName(), src)
					got, gotErr := projectedFilter(spec, pruned, normalized)
					want, wantErr := spec.jq.filter(jsonItems[i].DeepCopy().Object)
					if (gotErr != nil) != (wantErr != nil) {
						t.Errorf("%s: error %v after pruning, %v on the JSON object", name, gotErr, wantErr)
						continue
					}
					if string(got) != string(want) {
						t.Errorf("%s: output differs\npruned: %s\njson:   %s", name, got, want)
					}
				}
			}
		})
	}
}

// pruneFilters exercise the jq analysis on real objects: paths, iteration,
// variables, select, alternatives, errors with and without try, and
// filters that read everything.
var pruneFilters = []string{
	`{size: (.data | length), keys: (.data | keys), bin: (.binaryData | keys), has: (.metadata.labels | has("a"))}`,
	`(.data | length), .data.k, (.metadata | length), (.metadata.name | length)`,
	`.spec.containers | length, (.[0].env | length)?`,
	`.spec.template.spec.containers[0].resources.limits | keys?`,
	`.rules | length`,
	`.spec.ports | map(.port) | length`,
	`.data."\(.metadata.labels.a)"`,
	`.metadata as $m | .data as {($m.labels.a): $v} | $v`,
	`.spec.containers as $c | 1 | try ($c[0].name, $c.x) catch .`,
	`.spec.ports as $p | 1 | try ($p[0].port, $p.x) catch .`,
	`.spec.template.spec.containers[].resources.limits.cpu?`,
	`.spec.containers[0].env[1].valueFrom.fieldRef.fieldPath?`,
	`{phase: .status.phase, ip: .status.podIP, started: (.metadata.creationTimestamp != null)}`,
	`.spec.selector.matchLabels?`,
	`.spec.template.metadata.labels?, .spec.replicas?`,
	`.rules[]?.verbs`,
	`.aggregationRule`,
	`.metadata.uid | length`,
	`.type, (.data | keys)?`,
	`{name: .metadata.name, owner: .metadata.labels.owner, size: (.data | length)}`,
	`.metadata.labels`,
	`.metadata | {name, namespace, labels, annotations}`,
	`.spec.template.spec.containers[]? | {name, image, limits: .resources.limits}`,
	`.spec.containers | map(.image)?`,
	`.spec.ports[0].targetPort?`,
	`[.spec.ports[]? | .port] | add`,
	`. as $o | .metadata.name + "/" + $o.kind + "/" + $o.apiVersion`,
	`select(.metadata.labels.a == "b") | .data`,
	`if .data then .data.k else "none" end`,
	`.spec.replicas // 1`,
	`.metadata.annotations // {} | keys`,
	`"\(.metadata.namespace)/\(.metadata.name)"`,
	`.metadata.name as $n | {($n): .spec}`,
	`[.metadata.managedFields[]?.manager]`,
	`.metadata.managedFields[0].fieldsV1?`,
	`.metadata.creationTimestamp`,
	`.spec.tolerations[]? | select(.operator == "Exists") | .key`,
	`.status`,
	`.rules`,
	`.value, .globalDefault`,
	`.binaryData`,
	`.spec.template.spec.containers[0]?`,
	`.metadata.ownerReferences[]?.name`,
	`.spec.containers[]?.env[]? | select(.valueFrom) | .valueFrom.fieldRef`,
	`try (.metadata[0]) catch .`,
	`.metadata[0]`,
	`.spec | length`,
	`.`,
}

// projectedFilter is the filter result the Monitor keeps for u.
func projectedFilter(spec *compiledSpec, u *unstructured.Unstructured, normalized bool) ([]byte, error) {
	e, err := spec.project(objKey{}, u, normalized)
	if err != nil {
		return nil, err
	}
	return e.filter, nil
}
