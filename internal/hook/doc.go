// Package hook owns shell-operator compatible hooks: discovery of executable
// hook files, their --config output (configVersion v1 and legacy v0) with strict
// validation, the binding context JSON handed to a hook run, combining of queued
// binding contexts, and running a hook process with the env-var file protocol.
// For addon-operator module hooks it also expands module-sdk hook bundles (one
// Go binary answering `hook list`, `hook config` and `hook run <index>`) into
// one Hook per entry, and runs *.py hooks with the module's hooks/venv.
//
// It does not watch Kubernetes, keep snapshots, parse patch or metric files, or
// schedule anything: internal/kube, internal/metrics, internal/schedule and
// internal/queue do, consuming the plain types defined here. It checks
// crontabs with internal/schedule's parser, so both accept the same forms.
// This package must not import internal/kube, internal/runtime, internal/module
// or anything above them.
package hook
