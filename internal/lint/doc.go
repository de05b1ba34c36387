// Package lint is deckhand's dmt-compatible module linter (`deckhand module
// lint`): rules with dmt's linter and rule ids and severities, over a module
// loaded by internal/module (leniently, so one broken file does not hide the
// rest), its rendered templates and its hooks; `.dmtlint.yaml` exclusions
// apply. It is a developer tool, kept apart from the loader the runtime
// uses, as Helm keeps pkg/lint apart from chart/loader.
//
// It builds on internal/module, internal/values, internal/helm and
// internal/hook; nothing in the runtime imports it, and it must not import
// internal/runtime, internal/registry or anything that needs a cluster.
package lint
