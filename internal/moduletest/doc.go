// Package moduletest runs a module's hook unit tests without a cluster
// (`deckhand module test`). A test case (a YAML file under the module's
// tests/ directory) gives cluster objects, values and a binding; the package
// serves the objects from an in-process API server (cluster.go) so the
// binding contexts are built by the runtime's own code: internal/kube
// monitors list and filter the objects with the binding's selectors and
// jqFilter, internal/hook builds, refreshes and marshals the contexts and
// runs the hook. The hook's outputs are parsed with internal/kube
// (operations), internal/metrics and the values patch rules, and compared
// with the case's expect section; manifests are rendered with internal/helm.
//
// It sits above internal/module, internal/hook, internal/kube,
// internal/values and internal/helm and below cmd; it must not import cmd,
// internal/runtime or internal/release.
package moduletest
