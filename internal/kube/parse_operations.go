package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// operationSpec is one document of a KUBERNETES_PATCH_PATH file as written.
// Unknown keys are rejected (shell-operator's schema has
// additionalProperties: false). The ignore* flags are accepted on every
// operation because Go hooks serialise them as false everywhere.
type operationSpec struct {
	Operation           string          `json:"operation"`
	APIVersion          string          `json:"apiVersion"`
	Kind                string          `json:"kind"`
	Namespace           string          `json:"namespace"`
	Name                string          `json:"name"`
	Subresource         string          `json:"subresource"`
	Object              json.RawMessage `json:"object"`
	JQFilter            string          `json:"jqFilter"`
	MergePatch          json.RawMessage `json:"mergePatch"`
	JSONPatch           json.RawMessage `json:"jsonPatch"`
	IgnoreMissingObject bool            `json:"ignoreMissingObject"`
	IgnoreHookError     bool            `json:"ignoreHookError"`
}

// ParseOperations parses and validates a KUBERNETES_PATCH_PATH file: a stream
// of YAML documents (separated by ---) or of concatenated JSON objects. Every
// document is checked before any is returned, so a caller that applies only
// after a nil error never half-applies a bad file. The error names the
// document (1-based) and the field (an *OperationError).
//
// Accepted forms, as in shell-operator: `object`, `mergePatch` and
// `jsonPatch` may be given inline or as a string holding YAML or JSON;
// `subresource` may be "status" or "/status". An empty file has no operations.
func ParseOperations(data []byte) ([]Operation, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var ops []Operation
	for index := 1; ; index++ {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return ops, nil
		}
		if err != nil {
			return nil, &OperationError{Index: index, Err: fmt.Errorf("not valid YAML or JSON: %w", err)}
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			index-- // an empty document (a stray ---) is not an operation
			continue
		}
		op, err := parseOperation(index, raw)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
}

func parseOperation(index int, raw json.RawMessage) (Operation, error) {
	fail := func(field string, format string, args ...any) (Operation, error) {
		return Operation{}, &OperationError{Index: index, Field: field, Err: fmt.Errorf(format, args...)}
	}
	if raw[0] != '{' {
		return fail("", "a document must be a mapping, got %s", firstLine(raw))
	}
	var spec operationSpec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fail(typeErr.Field, "must be a %s, got a JSON %s", typeErr.Type, typeErr.Value)
		}
		return fail("", "%v", err)
	}
	op := Operation{
		Index:               index,
		Type:                OperationType(spec.Operation),
		APIVersion:          spec.APIVersion,
		Kind:                spec.Kind,
		Namespace:           spec.Namespace,
		Name:                spec.Name,
		Subresource:         strings.TrimPrefix(spec.Subresource, "/"),
		JQFilter:            spec.JQFilter,
		IgnoreMissingObject: spec.IgnoreMissingObject,
		IgnoreHookError:     spec.IgnoreHookError,
	}
	// Payload fields of another operation mean the hook wrote something
	// else than it meant; say so rather than silently ignoring them.
	payloads := map[string]bool{
		"object":     isSet(spec.Object),
		"jqFilter":   spec.JQFilter != "",
		"mergePatch": isSet(spec.MergePatch),
		"jsonPatch":  isSet(spec.JSONPatch),
	}
	own := map[OperationType]string{OpJQPatch: "jqFilter", OpMergePatch: "mergePatch", OpJSONPatch: "jsonPatch"}
	switch {
	case op.Type == "":
		return fail("operation", "is required (one of Create, CreateOrUpdate, CreateIfNotExists, Delete, DeleteInBackground, DeleteNonCascading, JQPatch, MergePatch, JSONPatch)")
	case op.Type.isCreate():
		own[op.Type] = "object"
	case op.Type.isDelete(), op.Type.isPatch():
	default:
		return fail("operation", "unknown operation %q", spec.Operation)
	}
	for field, set := range payloads {
		if set && own[op.Type] != field {
			return fail(field, "is not used by operation %s", op.Type)
		}
	}

	if op.Type.isCreate() {
		obj, err := parseObject(spec.Object)
		if err != nil {
			return fail("object", "%v", err)
		}
		if obj.GetNamespace() == "" && op.Namespace != "" {
			obj.SetNamespace(op.Namespace)
		}
		op.Object = obj
		op.APIVersion, op.Kind, op.Namespace, op.Name = obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName()
		return op, nil
	}

	if op.Kind == "" {
		return fail("kind", "is required for %s", op.Type)
	}
	if op.Name == "" {
		return fail("name", "is required for %s", op.Type)
	}
	switch op.Type {
	case OpJQPatch:
		if op.JQFilter == "" {
			return fail("jqFilter", "is required for JQPatch")
		}
		prog, err := compileJQ(op.JQFilter)
		if err != nil {
			return fail("jqFilter", "%v", err)
		}
		op.jq = prog
	case OpMergePatch:
		p, err := parsePayload(spec.MergePatch, '{')
		if err != nil {
			return fail("mergePatch", "%v", err)
		}
		if string(p) == "{}" {
			return fail("mergePatch", "is empty")
		}
		op.MergePatch = p
	case OpJSONPatch:
		p, err := parsePayload(spec.JSONPatch, '[')
		if err != nil {
			return fail("jsonPatch", "%v", err)
		}
		if err := validateJSONPatch(p); err != nil {
			return fail("jsonPatch", "%v", err)
		}
		op.JSONPatch = p
	}
	return op, nil
}

func isSet(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}

// parsePayload returns raw as compact JSON whose first character is want
// ('{' for an object, '[' for an array). A JSON string is read as YAML or
// JSON text first (the string form hooks may write).
func parsePayload(raw json.RawMessage, want byte) (json.RawMessage, error) {
	kind := map[byte]string{'{': "an object", '[': "an array"}[want]
	if !isSet(raw) {
		return nil, fmt.Errorf("is required")
	}
	if raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, err
		}
		j, err := yaml.YAMLToJSON([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("string is not valid YAML or JSON: %w", err)
		}
		raw = bytes.TrimSpace(j)
	}
	if len(raw) == 0 || raw[0] != want {
		return nil, fmt.Errorf("must be %s (or a string holding one), got %s", kind, firstLine(raw))
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func parseObject(raw json.RawMessage) (*unstructured.Unstructured, error) {
	p, err := parsePayload(raw, '{')
	if err != nil {
		return nil, err
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(p); err != nil {
		return nil, err
	}
	switch {
	case obj.GetAPIVersion() == "":
		return nil, fmt.Errorf("apiVersion is missing")
	case obj.GetKind() == "":
		return nil, fmt.Errorf("kind is missing")
	case obj.GetName() == "" && obj.GetGenerateName() == "":
		return nil, fmt.Errorf("metadata.name is missing")
	}
	return obj, nil
}

// validateJSONPatch checks an RFC 6902 patch with evanphx/json-patch, plus
// the members each op needs (the library checks those only when applying).
func validateJSONPatch(p json.RawMessage) error {
	patch, err := jsonpatch.DecodePatch(p)
	if err != nil {
		return err
	}
	if len(patch) == 0 {
		return fmt.Errorf("is empty")
	}
	for i, o := range patch {
		kind := o.Kind()
		if _, err := o.Path(); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		switch kind {
		case "add", "replace", "test":
			if _, ok := o["value"]; !ok {
				return fmt.Errorf("item %d: op %q needs a value", i, kind)
			}
		case "move", "copy":
			if _, err := o.From(); err != nil {
				return fmt.Errorf("item %d: op %q needs from: %w", i, kind, err)
			}
		case "remove":
		default:
			return fmt.Errorf("item %d: unknown op %q", i, kind)
		}
	}
	return nil
}

func firstLine(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return fmt.Sprintf("%q", s)
}
