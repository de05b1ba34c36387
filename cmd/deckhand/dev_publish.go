package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

// publishModules builds every module directory under dir and pushes it to
// source with the given channel, so the dev registry is a real module source
// (`deckhand registry ls <source>`) from the start.
func publishModules(ctx context.Context, dir, source, version, channel string, log io.Writer) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading modules directory %s: %w", dir, err)
	}
	client, err := registry.NewClient()
	if err != nil {
		return nil, err
	}
	var published []string
	for _, e := range entries {
		modDir := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(modDir, "module.yaml")); err != nil {
			continue // not a module
		}
		art, err := registry.Build(ctx, modDir, registry.BuildOptions{Version: version})
		if err != nil {
			return published, fmt.Errorf("building %s: %w", modDir, err)
		}
		if _, err := client.Push(ctx, source, art, registry.PushOptions{Channels: []string{channel}, Force: true}); err != nil {
			return published, fmt.Errorf("pushing %s to %s: %w", art.Module, source, err)
		}
		fmt.Fprintf(log, "published %s %s to %s (channel %s)\n", art.Module, art.Version, source, channel)
		published = append(published, art.Module)
	}
	sort.Strings(published)
	return published, nil
}
