// Package module owns a module directory on disk, as Helm's chart/loader
// owns a chart: module.yaml (Definition), the chart, the openapi/ schemas,
// values.yaml, the hooks dir and hook list, the `enabled` script and the
// CRDs, gathered into a Module.
//
// Three loads hold a module to three standards:
//
//   - Load, for the developer verbs (render, test, build, publish): every
//     module.yaml rule ParseDefinition checks.
//   - LoadLenient, for internal/lint: goes past module.yaml and schema
//     problems so the linter can report them with the rest (it returns the
//     module and the schema errors together).
//   - LoadRuntime, for running: module.yaml must parse and name a usable
//     module; rules only dmt minds (stage, editions, bundles, update
//     versions, constraints) do not stop a module.
//
// Discover reads addon-operator's MODULES_DIR for the runtime: several
// directories of `NNN-name` or `name` entries (symlinks followed), each
// directory's common values.yaml, weights (module.yaml, else NNN, else
// DefaultWeight, 900, DKP's; WithDefaultWeight(1) is addon-operator's), one
// module per name (first wins) and one error per broken module, the others
// unaffected. LoadGlobal and GlobalHooksDir read $GLOBAL_HOOKS_DIR: hooks/
// when it exists, else the dir, and openapi/ for the global values.
//
// Two developer verbs stay here because they only read a loaded module and
// more than one developer tool needs them: Scaffold (`deckhand module init`)
// and Render, used by `deckhand module render`, internal/lint and
// internal/moduletest; in internal/lint it would make the test runner depend
// on the linter. The linter itself is internal/lint, on top of this package.
//
// It builds on internal/values, internal/helm and internal/hook. It must not
// import internal/lint, internal/runtime, internal/release, internal/registry
// or anything that needs a cluster.
package module
