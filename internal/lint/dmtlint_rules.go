package lint

import (
	"fmt"
	"sort"
	"strings"
)

// implementedRules are the dmt rules deckhand checks, by linter. A
// .dmtlint.yaml setting for any other linter or rule changes nothing here, so
// it is reported (UnsupportedSettings) rather than silently ignored: the
// module author would otherwise believe deckhand honours it. Keep in step with
// the rules the lint_*.go files report (TestImplementedRulesListsEveryRule).
var implementedRules = map[string]map[string]bool{
	LinterContainer: stringSet("controller-security-context", "dns-policy", "env-variables-duplicates",
		"image-pull-policy", "liveness-probe", "name-duplicates", "no-new-privileges", "object-api-version",
		"object-priority-class", "object-recommended-labels", "object-revision-history-limit", "ports",
		"read-only-root-filesystem", "readiness-probe", "resources", "seccomp-profile", "security-context",
		"host-network-ports", "image-digest", "container-image-name", "mount-points", "object-namespace-labels",
		"sys-cgroup-mount"),
	LinterDocumentation: stringSet("bilingual", "cyrillic-in-english", "front-matter", "markdownlint", "no-lang-key",
		"readme", "size"),
	LinterHooks: stringSet("hook-config", "hook-executable"),
	LinterModule: stringSet("conversions", "definition-file", "enabled-script", "helmignore",
		"legacy-release-file", "license", "module-package-consistency", "oss", "package-yaml", "requirements"),
	// dmt reports images/dockerfile but reads its impact from rules.image, and
	// its skip-distroless-file-path-prefix exclusion is keyed by neither rule.
	LinterImages:     stringSet("dockerfile", "image", "distroless", "patches", "werf", "skip-distroless-file-path-prefix"),
	LinterNoCyrillic: stringSet("files"),
	LinterOpenAPI: stringSet("bilingual", "deckhouse-crds", "deckhouse-validations", "doc-ru-yaml", "enum",
		"high-availability", "keys", "schema", "x-examples"),
	LinterRBAC: stringSet("binding-subject", "placement", "user-authz", "wildcards"),
	LinterTemplates: stringSet("cluster-domain", "helm-render", "namespace", "service-port",
		"crd-enabled-modules", "enabled-modules", "httproute-rules", "ingress-rules", "mount-points", "registry", "werf",
		"grafana-dashboards", "kube-rbac-proxy", "pdb", "prometheus-rules", "vpa", "webhook-configuration-annotations"),
}

// exclusionKeys are exclude-rules keys that are not rule names: the rule
// their entries exclude, or "" for a setting that excludes nothing
// (openapi's key-banned-names lists the names the keys rule bans).
var exclusionKeys = map[string]map[string]string{
	LinterNoCyrillic: {"directories": "files"},
	LinterOpenAPI:    {"key-banned-names": ""},
}

// linterKeys are the keys of a linter's settings that are not rule names.
var linterKeys = stringSet("impact", "exclude-rules", "rules")

// UnsupportedSetting is a .dmtlint.yaml setting for a linter or rule deckhand
// does not implement.
type UnsupportedSetting struct {
	// Path is the dotted path of the key ("linters-settings.images",
	// "global.linters-settings.templates.exclude-rules.vpa").
	Path   string
	Linter string
	// Rule is "" when the whole linter is missing.
	Rule string
	// Line is the key's line in the file (0 when unknown).
	Line int
}

func (u UnsupportedSetting) String() string {
	if u.Rule == "" {
		return fmt.Sprintf("%s: deckhand has no %q linter; the setting is ignored", u.Path, u.Linter)
	}
	return fmt.Sprintf("%s: deckhand does not implement rule %q of linter %q; the setting is ignored", u.Path, u.Rule, u.Linter)
}

// UnsupportedSettings lists the settings deckhand ignores, sorted by path.
func (c *LintConfig) UnsupportedSettings() []UnsupportedSetting {
	if c == nil {
		return nil
	}
	var out []UnsupportedSetting
	add := func(prefix, linter, rule string) {
		path := prefix + "." + linter
		if rule != "" {
			path += "." + rule
		}
		u := UnsupportedSetting{Path: path, Linter: linter, Rule: strings.TrimPrefix(strings.TrimPrefix(rule, "exclude-rules."), "rules.")}
		u.Line = c.doc.Line(path)
		out = append(out, u)
	}
	for prefix, section := range map[string]map[string]any{"linters-settings": c.module, "global.linters-settings": c.global} {
		for linter, v := range section {
			rules, known := implementedRules[linter]
			if !known {
				add(prefix, linter, "")
				continue
			}
			settings, _ := v.(map[string]any)
			for key, sv := range settings {
				switch {
				case key == "exclude-rules" || key == "rules":
					sub, _ := sv.(map[string]any)
					for rule := range sub {
						if _, known := exclusionKeys[linter][rule]; !rules[rule] && !rules[ruleOfSettingsKey(linter, rule)] && !(key == "exclude-rules" && known) {
							add(prefix, linter, key+"."+rule)
						}
					}
				case linterKeys[key] || rules[key] || rules[ruleOfSettingsKey(linter, key)]:
				default:
					add(prefix, linter, key)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}
