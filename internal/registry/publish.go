package registry

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// PublishDir builds every module directly under dir (a subdirectory holding
// module.yaml) at version and pushes it to source, pointing channel (if not
// empty) at that version. It overwrites a version published with other
// content: it is meant for development sources such as `deckhand dev`'s.
// It returns what it pushed, sorted by module; on an error the modules pushed
// before it are returned too.
func PublishDir(ctx context.Context, dir, source, version, channel string, opts ...Option) ([]*PushResult, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading modules directory %s: %w", dir, err)
	}
	client, err := NewClient(opts...)
	if err != nil {
		return nil, err
	}
	var channels []string
	if channel != "" {
		channels = []string{channel}
	}
	var published []*PushResult
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		modDir := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(modDir, "module.yaml")); errors.Is(err, fs.ErrNotExist) {
			continue // not a module
		} else if err != nil {
			return published, fmt.Errorf("checking %s: %w", modDir, err)
		}
		res, err := publishModule(ctx, client, modDir, source, version, channels)
		if err != nil {
			return published, err
		}
		published = append(published, res)
	}
	sort.Slice(published, func(i, j int) bool { return published[i].Module < published[j].Module })
	return published, nil
}

// PublishModule builds the module in dir at version and pushes it to
// source, pointing channel (if not empty) at it; like PublishDir, it
// overwrites a version published with other content.
func PublishModule(ctx context.Context, dir, source, version, channel string, opts ...Option) (*PushResult, error) {
	client, err := NewClient(opts...)
	if err != nil {
		return nil, err
	}
	var channels []string
	if channel != "" {
		channels = []string{channel}
	}
	return publishModule(ctx, client, dir, source, version, channels)
}

func publishModule(ctx context.Context, client *Client, dir, source, version string, channels []string) (*PushResult, error) {
	m, err := module.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", dir, err)
	}
	art, err := Build(ctx, m, BuildOptions{Version: version})
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", dir, err)
	}
	res, err := client.Push(ctx, source, art, PushOptions{Channels: channels, Force: true})
	if err != nil {
		return nil, fmt.Errorf("pushing %s from %s to %s: %w", art.Module, dir, source, err)
	}
	if k := client.opts.signingKey; k != nil {
		if _, err := client.Sign(ctx, source, art.Module, art.Version, k); err != nil {
			return nil, fmt.Errorf("signing %s %s: %w", art.Module, art.Version, err)
		}
	}
	return res, nil
}
