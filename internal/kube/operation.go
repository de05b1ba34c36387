package kube

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// OperationType is the `operation` of one KUBERNETES_PATCH_PATH document.
type OperationType string

// The operations a hook can ask for, as shell-operator names them.
const (
	OpCreate             OperationType = "Create"
	OpCreateOrUpdate     OperationType = "CreateOrUpdate"
	OpCreateIfNotExists  OperationType = "CreateIfNotExists"
	OpDelete             OperationType = "Delete"
	OpDeleteInBackground OperationType = "DeleteInBackground"
	OpDeleteNonCascading OperationType = "DeleteNonCascading"
	OpJQPatch            OperationType = "JQPatch"
	OpMergePatch         OperationType = "MergePatch"
	OpJSONPatch          OperationType = "JSONPatch"
)

func (t OperationType) isCreate() bool {
	return t == OpCreate || t == OpCreateOrUpdate || t == OpCreateIfNotExists
}

func (t OperationType) isDelete() bool {
	return t == OpDelete || t == OpDeleteInBackground || t == OpDeleteNonCascading
}

func (t OperationType) isPatch() bool {
	return t == OpJQPatch || t == OpMergePatch || t == OpJSONPatch
}

// Operation is one validated operation from a patch file. Parse with
// ParseOperations; apply with Patcher.Apply.
type Operation struct {
	// Index is the 1-based position of the document in the file.
	Index int
	Type  OperationType
	// APIVersion, Kind, Namespace and Name address the object of delete and
	// patch operations. For create operations they are taken from Object.
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// Subresource is passed to the API call ("status" for status patches).
	Subresource string

	// Object is the manifest of a create operation.
	Object *unstructured.Unstructured
	// JQFilter is the program of a JQPatch (compiled in jq).
	JQFilter string
	jq       *jqProgram
	// MergePatch is the JSON merge patch of a MergePatch.
	MergePatch json.RawMessage
	// JSONPatch is the RFC 6902 patch (a JSON array) of a JSONPatch.
	JSONPatch json.RawMessage

	// IgnoreMissingObject makes a patch of a missing object succeed.
	IgnoreMissingObject bool
	// IgnoreHookError marks a status patch to apply even when the hook failed.
	IgnoreHookError bool
}

// String names the operation and its object, for errors and logs.
func (o Operation) String() string {
	ns := o.Namespace
	if ns != "" {
		ns += "/"
	}
	sub := ""
	if o.Subresource != "" {
		sub = " (" + o.Subresource + ")"
	}
	return fmt.Sprintf("operation #%d %s %s %s%s%s", o.Index, o.Type, o.Kind, ns, o.Name, sub)
}

// OperationsOnHookError returns the operations that are applied even when the
// hook failed: status-subresource patches marked ignoreHookError.
// (shell-operator compares against "/status" and so never matches a file
// written as documented; deckhand accepts "status" and "/status".)
func OperationsOnHookError(ops []Operation) []Operation {
	var out []Operation
	for _, op := range ops {
		if op.Type.isPatch() && op.IgnoreHookError && (op.Subresource == "status" || op.Subresource == "/status") {
			out = append(out, op)
		}
	}
	return out
}

// OperationError says which document and field of a patch file is wrong.
type OperationError struct {
	Index int // 1-based document number
	Field string
	Err   error
}

func (e *OperationError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("operation #%d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("operation #%d: field %s: %v", e.Index, e.Field, e.Err)
}

func (e *OperationError) Unwrap() error { return e.Err }
