package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/deckhand-dev/deckhand/internal/operator"
	"github.com/deckhand-dev/deckhand/internal/registry"
)

// watchDevModule re-publishes a --module directory as the next patch
// version whenever its files change (checked every second, published once
// they have been still for a second), and says when the new release serves.
func watchDevModule(ctx context.Context, c client.Client, dir, source string, o devOptions, progress io.Writer) {
	version, err := semver.NewVersion(o.modulesVer)
	if err != nil {
		fmt.Fprintf(progress, "--module %s: not watched: --modules-version %s: %v\n", dir, o.modulesVer, err)
		return
	}
	last := fingerprint(dir)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := fingerprint(dir)
		if now == last {
			continue
		}
		// Wait for the editor to finish writing.
		time.Sleep(time.Second)
		if again := fingerprint(dir); again != now {
			continue
		}
		last = now
		next := version.IncPatch()
		version = &next
		start := time.Now()
		p, err := registry.PublishModule(ctx, dir, source, "v"+version.String(), o.channel, o.signer)
		if err != nil {
			fmt.Fprintf(progress, "%s changed; not published: %v\n", dir, err)
			continue
		}
		fmt.Fprintf(progress, "%s changed: published %s %s; rolling out\n", dir, p.Module, p.Version)
		go func(module, want string) {
			_, err := operator.WaitVersion(ctx, c, module, want, 2*time.Minute)
			switch {
			case ctx.Err() != nil:
			case err != nil:
				fmt.Fprintf(progress, "%s: %v\n", module, err)
			default:
				fmt.Fprintf(progress, "%s %s serving (%s after the change)\n", module, want, time.Since(start).Round(100*time.Millisecond))
			}
		}(p.Module, p.Version)
	}
}

// fingerprint sums the names, sizes and modification times under dir.
func fingerprint(dir string) string {
	var b strings.Builder
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != dir {
			return filepath.SkipDir
		}
		if fi, err := d.Info(); err == nil {
			fmt.Fprintf(&b, "%s %d %d\n", path, fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}
