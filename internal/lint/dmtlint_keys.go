package lint

// settingsKeys maps the rule ids whose .dmtlint.yaml key differs from the id
// (dmt reports "ingress-rules" but reads exclude-rules.ingress and
// rules.ingress) to that key, by linter.
var settingsKeys = map[string]map[string]string{
	LinterTemplates: {"ingress-rules": "ingress", "httproute-rules": "httproute"},
	LinterContainer: {"object-priority-class": "priority-class"},
}

// settingsKeyOf is the .dmtlint.yaml key of a rule.
func settingsKeyOf(linter, rule string) string {
	if k, ok := settingsKeys[linter][rule]; ok {
		return k
	}
	return rule
}

// ruleOfSettingsKey is the rule a .dmtlint.yaml key configures ("" when the
// key is not one of settingsKeys).
func ruleOfSettingsKey(linter, key string) string {
	for rule, k := range settingsKeys[linter] {
		if k == key {
			return rule
		}
	}
	return ""
}
