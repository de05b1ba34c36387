package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/release"
	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// module test takes the list formats: -o wide prints the report (it once
// panicked), -o name the case names; an unknown format is refused before
// any case runs, naming the accepted ones.
func TestModuleTestOutputFormats(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "modules", "hello-world")
	out, err := runModuleTestCmd(t, dir, "-o", "wide")
	if err != nil || !strings.Contains(out, "ok   tests/banner/defaults.yaml") || !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("-o wide: %v\n%s", err, out)
	}
	out, err = runModuleTestCmd(t, dir, "-o", "name")
	if err != nil || out != "banner/defaults\nbanner/settings\n" {
		t.Fatalf("-o name: %v\n%q", err, out)
	}
	_, err = runModuleTestCmd(t, dir, "-o", "xml")
	if err == nil || !strings.Contains(err.Error(), output.ListFormats) {
		t.Fatalf("-o xml: %v", err)
	}
}

// build's directory flag is -d/--out-dir; -o is the output format, so
// `build -o json` prints JSON instead of writing a directory named json.
func TestModuleBuildOutDir(t *testing.T) {
	dir := writeCLIModule(t)
	cwd := t.TempDir()
	t.Chdir(cwd)
	layout := filepath.Join(t.TempDir(), "layout")
	var res struct{ Layout string }
	decode(t, mustRun(t, "module", "build", dir, "--version", "v1.0.0", "-d", layout, "-o", "json"), &res)
	if res.Layout != layout {
		t.Fatalf("layout %q, want %q", res.Layout, layout)
	}
	if _, err := os.Stat(filepath.Join(layout, "oci-layout")); err != nil {
		t.Fatalf("-d: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cwd, "json")); !os.IsNotExist(err) {
		t.Fatalf("-o json wrote a directory: %v", err)
	}
	// The old spellings: --layout DIR and --format still work, deprecated.
	// (cobra writes the deprecation notice to the command's "out" writer,
	// which is stderr unless SetOut was called, as it is here.)
	old := filepath.Join(t.TempDir(), "old")
	out, errOut, err := runDeckhand(t, "module", "build", dir, "--version", "v1.0.0", "--layout", old, "--format", "yaml")
	if err != nil || !strings.Contains(out, "\nlayout: "+old+"\n") || !strings.Contains(out, "Flag --layout has been deprecated, use -d/--out-dir") {
		t.Fatalf("--layout: %v\n%s\n%s", err, out, errOut)
	}
	// A directory given to -o, as before, is refused with the accepted values.
	_, _, err = runDeckhand(t, "module", "build", dir, "--version", "v1.0.0", "-o", "./layout")
	if err == nil || !strings.Contains(err.Error(), output.Formats) {
		t.Fatalf("-o ./layout: %v", err)
	}
	out, _, err = runDeckhand(t, "module", "build", dir, "--version", "v1.0.0", "-d", layout)
	if err != nil || !strings.Contains(out, "REPOSITORY") || !strings.Contains(out, "Written to "+layout+"\n") {
		t.Fatalf("table: %v\n%s", err, out)
	}
}

// module lint takes -o json|yaml like the rest (--format is a deprecated
// alias); the list-only formats are refused, naming the accepted ones.
func TestModuleLintOutput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "greeter")
	if out, err := runModuleCLI(t, "module", "init", "greeter", "--dir", dir, "-o", "name"); err != nil || !strings.HasPrefix(out, filepath.Join(dir, "")) || strings.Contains(out, "created") {
		t.Fatalf("init -o name: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"-o", "yaml"}, {"--format", "yaml"}} {
		out, err := runModuleCLI(t, append([]string{"module", "lint", dir}, args...)...)
		// A new module lints clean.
		if err != nil || !strings.Contains(out, "problems: []") {
			t.Fatalf("lint %v: %v\n%s", args, err, out)
		}
	}
	_, err := runModuleCLI(t, "module", "lint", dir, "-o", "wide")
	if err == nil || !strings.Contains(err.Error(), output.Formats) {
		t.Fatalf("lint -o wide: %v", err)
	}
	_, err = runModuleCLI(t, "version", "-o", "name")
	if err == nil || !strings.Contains(err.Error(), output.Formats) {
		t.Fatalf("version -o name: %v", err)
	}
}

// registry inspect shows version.json and the changelog in its table, and
// the version document as an object in JSON; pull and channel print
// sentences; --progress on a stderr that is no terminal writes plain lines.
func TestRegistryInspectAndSentences(t *testing.T) {
	source := testenv.Registry(t).Addr + "/acme/modules"
	dir := writeCLIModule(t)
	_, errOut, err := runDeckhand(t, "module", "push", dir, "--repo", source, "--version", "v1.0.0", "--channel", "alpha", "--progress")
	if err != nil {
		t.Fatalf("push: %v\n%s", err, errOut)
	}
	if strings.Contains(errOut, "\r") || !strings.Contains(errOut, "pushing greeter v1.0.0: ") || !strings.Contains(errOut, " bytes transferred\n") {
		t.Fatalf("progress on a non-terminal: %q", errOut)
	}

	table := mustRun(t, "registry", "inspect", source, "greeter", "alpha")
	for _, want := range []string{"version.json:\n  {\n    \"version\": \"v1.0.0\"\n  }\n", "Changelog:\n  fixes:\n  - typo\n", "Channels:        alpha\n"} {
		if !strings.Contains(table, want) {
			t.Errorf("inspect table lacks %q:\n%s", want, table)
		}
	}
	var info struct{ VersionJSON json.RawMessage }
	decode(t, mustRun(t, "registry", "inspect", source, "greeter", "v1.0.0", "-o", "json"), &info)
	var doc map[string]any
	if err := json.Unmarshal(info.VersionJSON, &doc); err != nil || doc["version"] != "v1.0.0" {
		t.Fatalf("versionJSON is not the document: %s (%v)", info.VersionJSON, err)
	}
	if _, _, err := runDeckhand(t, "registry", "inspect", source, "greeter", "v1.0.0", "-o", "wide"); err == nil || !strings.Contains(err.Error(), output.Formats) {
		t.Fatalf("inspect -o wide: %v", err)
	}

	if out := mustRun(t, "registry", "channel", source, "greeter", "stable", "v1.0.0"); out != "Channel stable of greeter -> v1.0.0 (was -)\n" {
		t.Fatalf("channel: %q", out)
	}
	if out := mustRun(t, "registry", "tags", source, "greeter", "-o", "name"); out != "v1.0.0\n" {
		t.Fatalf("tags -o name: %q", out)
	}
	dest := filepath.Join(t.TempDir(), "pulled")
	out := mustRun(t, "registry", "pull", source, "greeter", "stable", "-d", dest)
	if !strings.HasPrefix(out, "Pulled greeter v1.0.0 (sha256:") || !strings.HasSuffix(out, ") into "+dest+"\n") {
		t.Fatalf("pull: %q", out)
	}
	// A format pull cannot print is refused before anything is pulled.
	other := filepath.Join(t.TempDir(), "other")
	if _, _, err := runDeckhand(t, "registry", "pull", source, "greeter", "stable", "-d", other, "-o", "name"); err == nil || !strings.Contains(err.Error(), output.Formats) {
		t.Fatalf("pull -o name: %v", err)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Fatalf("pulled despite the refused format: %v", err)
	}
}

// status MODULE prints its sentences as lines and only the release history
// through the table writer.
func TestStatusReportText(t *testing.T) {
	rep := &release.Report{Module: "hello", Enabled: true, Source: "local", Version: "v1.0.0", Phase: "Ready", Ready: true,
		Releases: []release.ReleaseReport{{Version: "v1.0.0", Phase: "Deployed"}, {Version: "v0.9.0", Phase: "Superseded", Message: "replaced by v1.0.0"}}}
	var b strings.Builder
	if err := output.PrintText(&b, "table", rep, func(w io.Writer) error { return printReport(w, rep) }); err != nil {
		t.Fatal(err)
	}
	want := "Module:    hello\nEnabled:   true\nSource:    local\nVersion:   v1.0.0\nPhase:     Ready\n\n" +
		"RELEASE   PHASE        SINCE   MESSAGE\n" +
		"v1.0.0    Deployed     -       -\n" +
		"v0.9.0    Superseded   -       replaced by v1.0.0\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
