package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/output"
	"github.com/deckhand-dev/deckhand/internal/registry"
)

// printInspect writes what `registry inspect` promises for people: the
// version's images and channels as aligned pairs, then version.json and the
// changelog as documents (indented, not through the table writer).
func printInspect(w io.Writer, info *registry.VersionInfo) error {
	err := output.WriteTable(w, func(tw io.Writer) error {
		output.Row(tw, "Module:", info.Module)
		output.Row(tw, "Version:", info.Version)
		output.Row(tw, "Channels:", dash(strings.Join(info.Channels, ",")))
		output.Row(tw, "Module image:", info.Bundle.Reference)
		output.Row(tw, "", info.Bundle.Digest, fmt.Sprintf("%d bytes", info.Bundle.Size))
		output.Row(tw, "Release image:", info.Release.Reference)
		output.Row(tw, "", info.Release.Digest, fmt.Sprintf("%d bytes", info.Release.Size))
		if len(info.ImagesDigests) == 0 {
			output.Row(tw, "Images:", "-")
		} else {
			output.Row(tw, "Images:")
		}
		for _, k := range sortedKeys(info.ImagesDigests) {
			output.Row(tw, "", k, info.ImagesDigests[k])
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "version.json:")
	fmt.Fprintln(w, indentBlock(versionJSONText(info.VersionJSON)))
	if len(info.Changelog) == 0 {
		_, err = fmt.Fprintln(w, "Changelog: -")
		return err
	}
	data, err := yaml.Marshal(info.Changelog)
	if err != nil {
		return fmt.Errorf("encoding the changelog of %s %s: %w", info.Module, info.Version, err)
	}
	fmt.Fprintln(w, "Changelog:")
	_, err = fmt.Fprintln(w, indentBlock(string(data)))
	return err
}

// versionJSONText is version.json indented for reading; a document that is
// a JSON string (a file that was not JSON) is shown as its text.
func versionJSONText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "-"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

func indentBlock(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

// isTerminal reports whether w is a terminal, where redrawn progress frames
// make sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
