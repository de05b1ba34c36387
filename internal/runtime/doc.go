// Package runtime is deckhand's module runtime: it runs a directory of
// addon-operator / DKP modules the way addon-operator does (values, hooks,
// Helm), level-triggered and with every module in its own lane.
//
// It discovers modules (internal/module) and global hooks, reads the
// cluster's config for them (ModuleConfig objects and addon-operator's
// ConfigMap), decides which modules are enabled in weight order (static
// values, global hooks, config, `enabled` scripts), and reconciles each
// module in its own queue of the hook engine (internal/engine): onStartup,
// Synchronization of its kubernetes bindings, beforeHelm, a Helm upgrade
// only when something changed (internal/helm), afterHelm; or, once
// disabled, beforeDeleteHelm, uninstall, afterDeleteHelm. A failing module
// is retried with capped backoff in its lane while the others converge;
// its Module object says which hook or template fails and why.
//
// Values live in internal/values (layers, schemas, hook patches); hook
// processes in internal/hook. It must not import internal/release,
// internal/registry, internal/hookserver or cmd.
package runtime
