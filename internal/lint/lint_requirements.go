package lint

import (
	"fmt"
	"github.com/deckhand-dev/deckhand/internal/module"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/hook"
)

// lintRequirements runs module/requirements as dmt does: each feature the
// module uses needs requirements.deckhouse to start no lower than the DKP
// version that brought it (stage 1.68, Go hooks on module-sdk 1.68, module-sdk
// >= 0.3.0 1.71, "!optional" module requirements 1.73), and weight and
// requirements.bootstrapped follow the versions the module supports (both
// are gone from DKP 1.72; before it external modules weigh 900-999).
func lintRequirements(c *collector, m *module.Module) {
	def, doc := m.Definition, m.DefinitionDoc
	if def == nil {
		return
	}
	dkp := ""
	if def.Requirements != nil {
		dkp = def.Requirements.Deckhouse
	}
	need := func(field, feature, min string) {
		line := doc.Line(field)
		if dkp == "" {
			c.add(LinterModule, "requirements", module.DefinitionFile, line, "%s needs DKP >= %s: set requirements.deckhouse to start no lower than %s", feature, min, min)
			return
		}
		cons, err := semver.NewConstraint(dkp)
		if err != nil {
			c.add(LinterModule, "requirements", module.DefinitionFile, doc.Line("requirements.deckhouse"), "requirements.deckhouse %q is not a semver constraint", dkp)
			return
		}
		if lo := minimalAllowed(cons); lo != nil && lo.LessThan(semver.MustParse(min)) {
			c.add(LinterModule, "requirements", module.DefinitionFile, line, "%s needs DKP >= %s: requirements.deckhouse starts at %s", feature, min, lo)
		}
	}
	if def.Stage != "" {
		need("stage", "stage", "1.68.0")
	}
	sdk := moduleSDKUse(m.Dir)
	if sdk.goHooks {
		need("requirements.deckhouse", "Go hooks on module-sdk ("+sdk.goMod+")", "1.68.0")
	}
	if def.Requirements != nil {
		names := make([]string, 0, len(def.Requirements.Modules))
		for n := range def.Requirements.Modules {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if strings.Contains(def.Requirements.Modules[n], "!optional") {
				need("requirements.modules."+n, fmt.Sprintf("the !optional requirement on %s", n), "1.73.0")
				break // dmt reports the feature once
			}
		}
	}
	if sdk.v03 != "" {
		need("requirements.deckhouse", "module-sdk >= 0.3.0 ("+sdk.v03+")", "1.71.0")
	}
	if def.Requirements != nil && def.Requirements.Bootstrapped == "true" && startsAtLeast(dkp, "1.72.0") {
		c.add(LinterModule, "requirements", module.DefinitionFile, doc.Line("requirements.bootstrapped"), "requirements.bootstrapped is gone from DKP >= 1.72 (the only versions this module supports): remove it")
	}
	var w uint32 // dmt reads a missing weight as 0
	if def.Weight != nil {
		w = *def.Weight
	}
	switch {
	case def.Critical:
	case w > 0 && startsAtLeast(dkp, "1.72.0"):
		c.add(LinterModule, "requirements", module.DefinitionFile, doc.Line("weight"), "weight is ignored by DKP >= 1.72 for non-critical modules (the only versions this module supports): remove it")
	case dkp != "" && !startsAtLeast(dkp, "1.72.0") && (w < 900 || w > 999):
		c.add(LinterModule, "requirements", module.DefinitionFile, doc.Line("weight"), "weight %d: DKP < 1.72, which this module supports, needs external modules to weigh 900-999", w)
	}
}

var conversionFile = regexp.MustCompile(`^v([0-9]+)\.ya?ml$`)

// lintConversions runs module/conversions: openapi/conversions/v<N>.yaml form
// a chain 2..N with N == x-config-version, each with its version, jq
// conversions that compile and en/ru descriptions.
func lintConversions(c *collector, m *module.Module) {
	dir := filepath.Join(m.Dir, "openapi", "conversions")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	versions := map[int]string{}
	for _, e := range entries {
		match := conversionFile.FindStringSubmatch(e.Name())
		if e.IsDir() || match == nil {
			continue
		}
		n, _ := strconv.Atoi(match[1])
		rel := "openapi/conversions/" + e.Name()
		versions[n] = rel
		lintConversionFile(c, filepath.Join(dir, e.Name()), rel, n)
	}
	if len(versions) == 0 {
		return
	}
	max := 0
	for n := range versions {
		if n > max {
			max = n
		}
	}
	for n := 2; n <= max; n++ {
		if _, ok := versions[n]; !ok {
			c.add(LinterModule, "conversions", fmt.Sprintf("openapi/conversions/v%d.yaml", n), 0, "conversion chain is broken: v%d is missing (chain must run from v2 to v%d)", n, max)
		}
	}
	if _, ok := versions[1]; ok {
		c.add(LinterModule, "conversions", versions[1], 0, "conversions start at v2 (they convert settings of version N-1 to N)")
	}
	cfg := relTo(m.Dir, m.Schemas.ConfigFile)
	if cfg == "" {
		cfg = "openapi/config-values.yaml"
	}
	if m.Schemas.ConfigVersion != max {
		c.add(LinterModule, "conversions", cfg, docOf(filepath.Join(m.Dir, filepath.FromSlash(cfg))).Line("x-config-version"), "x-config-version is %d but the last conversion is v%d", m.Schemas.ConfigVersion, max)
	}
}

func lintConversionFile(c *collector, path, rel string, n int) {
	data, err := os.ReadFile(path)
	if err != nil {
		c.add(LinterModule, "conversions", rel, 0, "%v", err)
		return
	}
	var conv struct {
		Version     *int     `json:"version"`
		Conversions []string `json:"conversions"`
		Description struct {
			En string `json:"en"`
			Ru string `json:"ru"`
		} `json:"description"`
	}
	if err := yaml.UnmarshalStrict(data, &conv); err != nil {
		c.add(LinterModule, "conversions", rel, 0, "%v", err)
		return
	}
	doc, _ := module.ParseDocument(data)
	if conv.Version == nil || *conv.Version != n {
		c.add(LinterModule, "conversions", rel, doc.Line("version"), "version must be %d (the file name's number)", n)
	}
	if len(conv.Conversions) == 0 {
		c.add(LinterModule, "conversions", rel, doc.Line("conversions"), "conversions must list at least one jq expression")
	}
	for i, expr := range conv.Conversions {
		if _, err := hook.CompileJqFilter(expr); err != nil {
			c.add(LinterModule, "conversions", rel, doc.Line("conversions"), "conversions[%d]: jq expression does not compile: %v", i, err)
		}
	}
	if strings.TrimSpace(conv.Description.En) == "" || strings.TrimSpace(conv.Description.Ru) == "" {
		c.add(LinterModule, "conversions", rel, doc.Line("description"), "description.en and description.ru are required")
	}
}
