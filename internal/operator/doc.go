// Package operator assembles `deckhand operator`: a controller-runtime
// manager with leader election, the module runtime for embedded and
// downloaded modules, and the release controllers of internal/release,
// with metrics and health endpoints. It owns the wiring only: the
// behaviour lives in runtime and release.
//
// It may import release, runtime, registry, hook (its Executor type) and
// the API packages; nothing imports it but cmd/.
package operator
