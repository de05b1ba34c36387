// Package values owns a module's values the way addon-operator computes them:
// the OpenAPI schemas in openapi/ (config-values.yaml, values.yaml with
// x-extend and x-required-for-helm), defaults, validation, x-examples, the
// deep merge of the value layers and the tree handed to Helm
// ({"global": ..., "<moduleKey>": ...}). Its errors point at the source: a
// schema that is not valid JSON Schema is one sentence with file, line and
// keyword path; a value that fails validation keeps its field path, so a
// caller can name the file or flag that set it (Input.ConfigSource, LineOf).
//
// It works on plain maps and schema files; it must not import internal/module,
// internal/helm, internal/runtime or anything that talks to a cluster.
package values
