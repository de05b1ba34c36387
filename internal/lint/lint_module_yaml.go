package lint

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/deckhand-dev/deckhand/internal/module"
)

var majorMinor = regexp.MustCompile(`^\d+\.\d+$`)

// lintDefinitionDmt holds the module/definition-file checks dmt makes beyond
// what module.ParseDefinition rejects: required stage, the deprecated
// description, critical modules' weight, accessibility and update entries,
// and disable.message(s) by the DKP versions that read them (>= 1.77 reads
// only disable.messages).
func lintDefinitionDmt(c *collector, def *module.Definition, doc *module.Document) {
	add := func(field, format string, args ...any) {
		c.add(LinterModule, "definition-file", module.DefinitionFile, doc.Line(field), format, args...)
	}
	if def.Stage == "" {
		add("stage", "stage is required (Experimental, Preview, General Availability or Deprecated)")
	}
	if def.Description != "" {
		add("description", "description is deprecated: use descriptions.en")
	}
	if def.Critical && (def.Weight == nil || *def.Weight == 0) {
		add("weight", "a critical module needs a non-zero weight (it orders critical modules)")
	}
	if a := def.Accessibility; a != nil && len(a.Editions) == 0 {
		add("accessibility", "accessibility.editions is required when accessibility is set")
	}
	if def.Update != nil {
		lintUpdateVersions(add, def.Update.Versions)
	}
	if d := def.Disable; d != nil {
		hasMessage, hasRu, hasEn := d.Message != "", d.Messages.Ru != "", d.Messages.En != ""
		only177 := def.Requirements != nil && def.Requirements.Deckhouse != "" && !admits(def.Requirements.Deckhouse, "1.76.999999")
		if hasMessage && only177 {
			add("disable.message", "disable.message is not read by DKP >= 1.77 (the only versions this module supports): move it to disable.messages.en/ru")
		}
		if hasRu || hasEn {
			if !hasRu || !hasEn {
				add("disable.messages", "disable.messages needs both en and ru")
			}
			if !only177 && !hasMessage {
				add("disable.messages", "disable.messages is read only by DKP >= 1.77: add a disable.message fallback or require deckhouse >= 1.77")
			}
			if hasMessage && !only177 {
				c.warn(LinterModule, "definition-file", module.DefinitionFile, doc.Line("disable.message"), "disable.message is the fallback for DKP < 1.77: remove it once requirements.deckhouse starts at 1.77")
			}
		}
	}
}

// admits reports whether version v satisfies constraint (false when either is invalid).
func admits(constraint, v string) bool {
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return false
	}
	return c.Check(semver.MustParse(v))
}

// lintUpdateVersions: update.versions entries name major.minor versions, are
// sorted by from then to, and each "to" has one "from".
func lintUpdateVersions(add func(field, format string, args ...any), versions []module.UpdateVersion) {
	for i, v := range versions {
		switch {
		case v.From == "":
			add("update.versions", "update.versions[%d].from is required", i)
		case v.To == "":
			add("update.versions", "update.versions[%d].to is required", i)
		case !majorMinor.MatchString(v.From):
			add("update.versions", "update.versions[%d].from %q must be major.minor (no patch version)", i, v.From)
		case !majorMinor.MatchString(v.To):
			add("update.versions", "update.versions[%d].to %q must be major.minor (no patch version)", i, v.To)
		}
	}
	less := func(a, b string) bool {
		va, errA := semver.NewVersion(a)
		vb, errB := semver.NewVersion(b)
		if errA != nil || errB != nil {
			return a < b
		}
		return va.LessThan(vb)
	}
	sorted := sort.SliceIsSorted(versions, func(i, j int) bool {
		if versions[i].From != versions[j].From {
			return less(versions[i].From, versions[j].From)
		}
		return less(versions[i].To, versions[j].To)
	})
	if !sorted {
		add("update.versions", "update.versions must be sorted by from, then by to, ascending")
	}
	froms := map[string][]string{}
	var tos []string
	for _, v := range versions {
		if v.From == "" || v.To == "" {
			continue
		}
		if froms[v.To] == nil {
			tos = append(tos, v.To)
		}
		froms[v.To] = append(froms[v.To], v.From)
	}
	for _, to := range tos {
		if f := froms[to]; len(f) > 1 {
			sort.Strings(f)
			add("update.versions", "%s", fmt.Sprintf("update.versions: %s is reached from %s: keep only the earliest from", to, strings.Join(f, ", ")))
		}
	}
}
