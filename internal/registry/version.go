package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Channels are the release channel tags of DKP, in promotion order.
var channels = []string{"alpha", "beta", "early-access", "stable", "rock-solid", "lts"}

// Channels returns the release channel tag names in promotion order.
func Channels() []string { return append([]string(nil), channels...) }

// IsChannel reports whether tag is a release channel tag.
func IsChannel(tag string) bool {
	for _, c := range channels {
		if c == tag {
			return true
		}
	}
	return false
}

// ValidateChannel returns an error naming the accepted channels if c is not one.
func ValidateChannel(c string) error {
	if IsChannel(c) {
		return nil
	}
	return fmt.Errorf("unknown release channel %q: use one of %s", c, strings.Join(channels, ", "))
}

// ParseVersion validates a module version and returns its registry tag form
// "vX.Y.Z[-pre]". Both "1.2.3" and "v1.2.3" are accepted; partial versions
// ("1.2") and build metadata ("+build", not allowed in registry tags) are not.
func ParseVersion(s string) (string, error) {
	raw := strings.TrimPrefix(strings.TrimSpace(s), "v")
	if raw == "" {
		return "", fmt.Errorf("version is empty: want semver like v1.2.3")
	}
	v, err := semver.StrictNewVersion(raw)
	if err != nil {
		return "", fmt.Errorf("version %q is not semver (want vMAJOR.MINOR.PATCH like v1.2.3): %w", s, err)
	}
	if v.Metadata() != "" {
		return "", fmt.Errorf("version %q has build metadata %q: registry tags cannot contain '+'", s, v.Metadata())
	}
	return "v" + v.String(), nil
}

// isVersionTag reports whether a registry tag is a module version.
func isVersionTag(tag string) bool {
	if !strings.HasPrefix(tag, "v") {
		return false
	}
	_, err := semver.StrictNewVersion(tag[1:])
	return err == nil
}

// sortVersions sorts version tags ascending by semver precedence.
func sortVersions(tags []string) {
	slices.SortFunc(tags, func(a, b string) int {
		va, _ := semver.StrictNewVersion(strings.TrimPrefix(a, "v"))
		vb, _ := semver.StrictNewVersion(strings.TrimPrefix(b, "v"))
		return va.Compare(vb)
	})
}
