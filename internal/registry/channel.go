package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ChannelResult says what SetChannel changed.
type ChannelResult struct {
	Source   string `json:"source"`
	Module   string `json:"module"`
	Channel  string `json:"channel"`
	Version  string `json:"version"`
	Previous string `json:"previous,omitempty"`
	Digest   string `json:"digest"`
}

// SetChannel points a release channel of module at an already published
// version (copies release:<version> to release:<channel>). The version's
// module image must exist too, so a cluster following the channel never gets a
// release it cannot download.
func (c *Client) SetChannel(ctx context.Context, source, module, channel, version string) (*ChannelResult, error) {
	if err := ValidateChannel(channel); err != nil {
		return nil, err
	}
	version, err := ParseVersion(version)
	if err != nil {
		return nil, err
	}
	src, err := c.parseRepo(source)
	if err != nil {
		return nil, err
	}
	bundleRef, err := tagRef(src, module, version, c.nameOptions())
	if err != nil {
		return nil, err
	}
	if desc, err := c.head(ctx, bundleRef); err != nil {
		return nil, err
	} else if desc == nil {
		return nil, fmt.Errorf("module %s %s: module image %s does not exist; %s", module, version, bundleRef, publishHint(src.Name(), version))
	}
	relRef, err := tagRef(src, module+"/release", version, c.nameOptions())
	if err != nil {
		return nil, err
	}
	chRef, err := tagRef(src, module+"/release", channel, c.nameOptions())
	if err != nil {
		return nil, err
	}
	res := &ChannelResult{Source: src.Name(), Module: module, Channel: channel, Version: version}
	if prev, err := c.head(ctx, chRef); err != nil {
		return nil, err
	} else if prev != nil {
		if res.Previous, _, err = c.releaseVersion(ctx, chRef); err != nil {
			res.Previous = prev.Digest.String()
		}
	}
	desc, err := remote.Get(relRef, c.remoteOptions(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("module %s %s: release image %s does not exist; %s", module, version, relRef, publishHint(src.Name(), version))
		}
		return nil, fmt.Errorf("fetching %s: %w", relRef, c.explainAuth(relRef.Context(), err))
	}
	res.Digest = desc.Digest.String()
	if err := remote.Tag(chRef, desc, c.remoteOptions(ctx)...); err != nil {
		return nil, fmt.Errorf("tagging %s: %w", chRef, c.explainAuth(chRef.Context(), err))
	}
	c.forgetTags(chRef.Context())
	return res, nil
}

// publishHint is the next step when a version to point a channel at is missing.
func publishHint(source, version string) string {
	return fmt.Sprintf("publish it first: deckhand module push DIR --repo %s --version %s", source, version)
}
