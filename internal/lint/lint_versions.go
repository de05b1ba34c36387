package lint

import (
	"regexp"

	"github.com/Masterminds/semver/v3"
)

var constraintBound = regexp.MustCompile(`([><=]=?|!=)\s*v?(\d+(?:\.\d+){0,2})`)

// minimalAllowed is the lowest version a constraint's >=, > or = terms name
// (dmt's reading of "where the range starts"); nil when it has none, as in
// "< 2.0". != sets no lower bound.
func minimalAllowed(c *semver.Constraints) *semver.Version {
	if c == nil {
		return nil
	}
	var min *semver.Version
	for _, m := range constraintBound.FindAllStringSubmatch(c.String(), -1) {
		if m[1] != ">=" && m[1] != ">" && m[1] != "=" {
			continue
		}
		if v, err := semver.NewVersion(m[2]); err == nil && (min == nil || v.LessThan(min)) {
			min = v
		}
	}
	return min
}

// startsAtLeast reports whether constraint's range starts at or above min.
func startsAtLeast(constraint, min string) bool {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return false
	}
	lo := minimalAllowed(c)
	return lo != nil && !lo.LessThan(semver.MustParse(min))
}
