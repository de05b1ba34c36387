// Package module owns a module directory on disk: loading module.yaml, the
// chart, the OpenAPI schemas, the hook list and the CRDs (Load, and
// Discover over addon-operator's MODULES_DIR for the runtime); and the
// developer verbs that only read a module: Scaffold (deckhand module init)
// and Render. The linter is internal/lint, on top of this package.
//
// It builds on internal/values, internal/helm and internal/hook. It must not
// import internal/runtime, internal/release, internal/registry or anything that
// needs a cluster.
package module
