// Package release is the "run in the cluster" half of the module system
// above the module runtime: it scans ModuleSources, creates ModuleReleases
// for the channel an update policy follows, moves them through DKP's phases
// (Pending, Deployed, Superseded, Suspended, Skipped) under the policy's
// mode and windows, downloads and validates the chosen version, and hands
// it to a Runner (the module runtime) to run. ModulePullOverrides run a
// tag instead of the releases.
//
// State lives in the API server (the objects) and on disk (the downloaded
// versions and one symlink per module naming the live one, see Store),
// never only in memory, so an operator restarted at any point ends in a
// consistent state.
//
// It imports the registry, module, values and runtime packages (for the
// ModuleDir it hands over) and the API types; the runtime is reached only
// through the Runner interface, and nothing below release imports it. It
// must not import cmd/.
package release
