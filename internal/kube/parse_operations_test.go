package kube

import (
	"errors"
	"strings"
	"testing"
)

func TestParseOperationsForms(t *testing.T) {
	yamlStream := `
operation: Create
object:
  apiVersion: v1
  kind: ConfigMap
  metadata: {name: a, namespace: ns1}
---
operation: CreateOrUpdate
object: |
  apiVersion: v1
  kind: ConfigMap
  metadata:
    name: b
namespace: ns2
---
---
operation: MergePatch
kind: ConfigMap
namespace: ns1
name: a
mergePatch: '{"data":{"k":"v"}}'
ignoreMissingObject: true
---
operation: JSONPatch
kind: ConfigMap
name: a
jsonPatch: |
  - {op: add, path: /data/x, value: "1"}
  - {op: remove, path: /data/y}
---
operation: JQPatch
kind: Foo
name: a
subresource: /status
jqFilter: .status.phase = "Ready"
ignoreHookError: true
---
operation: DeleteNonCascading
kind: cm
name: a
ignoreMissingObject: false
`
	ops, err := ParseOperations([]byte(yamlStream))
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 6 {
		t.Fatalf("got %d operations, want 6", len(ops))
	}
	if ops[1].Object.GetNamespace() != "ns2" || ops[1].Namespace != "ns2" || ops[1].Name != "b" || ops[1].Kind != "ConfigMap" {
		t.Errorf("CreateOrUpdate with string object: got %+v", ops[1])
	}
	if string(ops[2].MergePatch) != `{"data":{"k":"v"}}` || !ops[2].IgnoreMissingObject || ops[2].Index != 3 {
		t.Errorf("MergePatch: got %s index %d", ops[2].MergePatch, ops[2].Index)
	}
	if string(ops[3].JSONPatch) != `[{"op":"add","path":"/data/x","value":"1"},{"op":"remove","path":"/data/y"}]` {
		t.Errorf("JSONPatch: got %s", ops[3].JSONPatch)
	}
	if ops[4].Subresource != "status" {
		t.Errorf("subresource /status not normalised: %q", ops[4].Subresource)
	}
	if got := OperationsOnHookError(ops); len(got) != 1 || got[0].Type != OpJQPatch {
		t.Errorf("OperationsOnHookError = %v", got)
	}

	jsonStream := `{"operation":"Delete","kind":"ConfigMap","namespace":"x","name":"a","ignoreMissingObject":false,"ignoreHookError":false}
{"operation":"JSONPatch","kind":"ConfigMap","name":"a","jsonPatch":[{"op":"replace","path":"/data/a","value":"b"}]}`
	ops, err = ParseOperations([]byte(jsonStream))
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 || ops[0].Type != OpDelete || ops[1].Index != 2 {
		t.Fatalf("JSON stream: got %v", ops)
	}
	if ops, err := ParseOperations([]byte("  \n")); err != nil || len(ops) != 0 {
		t.Fatalf("empty file: %v %v", ops, err)
	}
}

func TestParseOperationsErrors(t *testing.T) {
	good := "operation: Delete\nkind: ConfigMap\nname: a\n---\n"
	cases := map[string]struct {
		doc   string
		field string
		msg   string
	}{
		"no operation":         {"kind: ConfigMap\nname: a", "operation", "is required"},
		"unknown operation":    {"operation: Patch\nkind: ConfigMap\nname: a", "operation", `unknown operation "Patch"`},
		"unknown field":        {"operation: Delete\nkind: ConfigMap\nname: a\nfoo: 1", "", `unknown field "foo"`},
		"delete without kind":  {"operation: Delete\nname: a", "kind", "is required"},
		"patch without name":   {"operation: MergePatch\nkind: ConfigMap\nmergePatch: {a: 1}", "name", "is required"},
		"create no object":     {"operation: Create", "object", "is required"},
		"create no apiVersion": {"operation: Create\nobject: {kind: ConfigMap, metadata: {name: a}}", "object", "apiVersion is missing"},
		"create no name":       {"operation: Create\nobject: {apiVersion: v1, kind: ConfigMap}", "object", "metadata.name is missing"},
		"create list object":   {"operation: Create\nobject: [1]", "object", "must be an object"},
		"bad jq":               {"operation: JQPatch\nkind: ConfigMap\nname: a\njqFilter: '.a |||'", "jqFilter", "parsing jq"},
		"no jq":                {"operation: JQPatch\nkind: ConfigMap\nname: a", "jqFilter", "is required"},
		"merge not object":     {"operation: MergePatch\nkind: ConfigMap\nname: a\nmergePatch: '[1]'", "mergePatch", "must be an object"},
		"merge empty":          {"operation: MergePatch\nkind: ConfigMap\nname: a\nmergePatch: {}", "mergePatch", "is empty"},
		"json patch object":    {"operation: JSONPatch\nkind: ConfigMap\nname: a\njsonPatch: {op: add}", "jsonPatch", "must be an array"},
		"json patch no value":  {"operation: JSONPatch\nkind: ConfigMap\nname: a\njsonPatch: [{op: add, path: /a}]", "jsonPatch", "missing value"},
		"json patch bad op":    {"operation: JSONPatch\nkind: ConfigMap\nname: a\njsonPatch: [{op: frob, path: /a}]", "jsonPatch", "unsupported operation"},
		"wrong payload":        {"operation: MergePatch\nkind: ConfigMap\nname: a\nmergePatch: {a: 1}\njqFilter: .", "jqFilter", "is not used by operation MergePatch"},
		"bool as string":       {"operation: MergePatch\nkind: ConfigMap\nname: a\nmergePatch: {a: 1}\nignoreMissingObject: 'no'", "ignoreMissingObject", "must be a bool"},
		"scalar document":      {"hello", "", "must be a mapping"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ops, err := ParseOperations([]byte(good + c.doc))
			if err == nil {
				t.Fatalf("no error; got %d operations", len(ops))
			}
			if ops != nil {
				t.Errorf("operations returned with an error: %v", ops)
			}
			var opErr *OperationError
			if !errors.As(err, &opErr) {
				t.Fatalf("error %v is not an *OperationError", err)
			}
			if opErr.Index != 2 || opErr.Field != c.field || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("got index %d field %q error %q; want index 2 field %q containing %q", opErr.Index, opErr.Field, err, c.field, c.msg)
			}
		})
	}
}
