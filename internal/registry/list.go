package registry

import (
	"context"
	"fmt"
	"sort"
)

// maxModules is how many index tags DKP reads from a source.
const maxModules = 1500

// ListModules returns the module names registered in source (its tags), the
// way DKP scans it: "modules" and names over 64 characters are skipped.
func (c *Client) ListModules(ctx context.Context, source string) ([]string, error) {
	src, err := c.parseRepo(source)
	if err != nil {
		return nil, err
	}
	tags, err := c.ListTags(ctx, src)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range tags {
		if t == "modules" || len(t) > 64 || !moduleNameRE.MatchString(t) {
			continue
		}
		out = append(out, t)
	}
	sort.Strings(out)
	if len(out) > maxModules {
		out = out[:maxModules]
	}
	return out, nil
}

// EmptySource says why ListModules found no modules in source: the
// repository has no tags at all (nothing pushed, or a wrong path), or only
// tags that are not module names.
func (c *Client) EmptySource(ctx context.Context, source string) (string, error) {
	src, err := c.parseRepo(source)
	if err != nil {
		return "", err
	}
	tags, err := c.ListTags(ctx, src)
	if err != nil {
		return "", err
	}
	if len(tags) == 0 {
		return fmt.Sprintf("no modules in %s: the repository does not exist or has no tags (a wrong path, or nothing published yet: deckhand module push DIR --repo %s)", src.Name(), src.Name()), nil
	}
	return fmt.Sprintf("no modules in %s: its %d tag(s) are not module names (is it a module's own repository? SOURCE is the repository above the modules)", src.Name(), len(tags)), nil
}

// ModuleTags are the versions and channels of one module in a source.
type ModuleTags struct {
	Source string `json:"source"`
	Module string `json:"module"`
	// Versions are the semver tags, ascending, with which images exist.
	Versions []VersionTags `json:"versions"`
	// Channels maps a channel tag to the version in its version.json.
	Channels map[string]string `json:"channels"`
	// OtherTags are non-version tags of the module repository (dev builds).
	OtherTags []string `json:"otherTags,omitempty"`
}

// VersionTags says which images of one version exist.
type VersionTags struct {
	Version string   `json:"version"`
	Bundle  bool     `json:"bundle"`
	Release bool     `json:"release"`
	On      []string `json:"channels,omitempty"`
}

// Tags lists the versions and channels of module in source.
func (c *Client) Tags(ctx context.Context, source, module string) (*ModuleTags, error) {
	src, err := c.parseRepo(source)
	if err != nil {
		return nil, err
	}
	modRepo, err := c.parseRepo(joinRepo(src, module))
	if err != nil {
		return nil, err
	}
	relRepo, err := c.parseRepo(joinRepo(src, module+"/release"))
	if err != nil {
		return nil, err
	}
	modTags, err := c.ListTags(ctx, modRepo)
	if err != nil {
		return nil, err
	}
	relTags, err := c.ListTags(ctx, relRepo)
	if err != nil {
		return nil, err
	}
	if len(modTags) == 0 && len(relTags) == 0 {
		return nil, fmt.Errorf("module %s: no images in %s", module, modRepo)
	}
	res := &ModuleTags{Source: src.Name(), Module: module, Channels: map[string]string{}}
	byVersion := map[string]*VersionTags{}
	get := func(v string) *VersionTags {
		if byVersion[v] == nil {
			byVersion[v] = &VersionTags{Version: v}
		}
		return byVersion[v]
	}
	for _, t := range modTags {
		if isVersionTag(t) {
			get(t).Bundle = true
		} else {
			res.OtherTags = append(res.OtherTags, t)
		}
	}
	for _, t := range relTags {
		switch {
		case isVersionTag(t):
			get(t).Release = true
		case IsChannel(t):
			ref, err := tagRef(src, module+"/release", t, c.nameOptions())
			if err != nil {
				return nil, err
			}
			v, _, err := c.releaseVersion(ctx, ref)
			if err != nil {
				return nil, fmt.Errorf("channel %s: %w", t, err)
			}
			res.Channels[t] = v
		}
	}
	for ch, v := range res.Channels {
		get(v).On = append(get(v).On, ch)
	}
	versions := make([]string, 0, len(byVersion))
	for v := range byVersion {
		versions = append(versions, v)
	}
	sortVersions(versions)
	for _, v := range versions {
		vt := byVersion[v]
		sort.Slice(vt.On, func(i, j int) bool { return channelRank(vt.On[i]) < channelRank(vt.On[j]) })
		res.Versions = append(res.Versions, *vt)
	}
	sort.Strings(res.OtherTags)
	return res, nil
}

func channelRank(c string) int {
	for i, ch := range channels {
		if ch == c {
			return i
		}
	}
	return len(channels)
}
