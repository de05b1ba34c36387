// Package module owns a module directory on disk: loading module.yaml, the
// chart, the OpenAPI schemas, the hook list and the CRDs (Load); and the
// developer verbs on it: Scaffold (deckhand module init), Lint and Render.
//
// It builds on internal/values, internal/helm and internal/hook. It must not
// import internal/runtime, internal/release, internal/registry or anything that
// needs a cluster.
package module
