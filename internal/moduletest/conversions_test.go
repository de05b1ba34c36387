package moduletest

import (
	"regexp"
	"strings"
	"testing"
)

// Settings conversion cases (dmt's openapi/conversions/testcases.yaml) run
// through the runtime's conversion code; the module has no tests/ directory,
// and the conversion cases are enough to run.
func TestConversionCases(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"openapi/config-values.yaml":  "type: object\nx-config-version: 3\nproperties:\n  auth:\n    type: object\n    properties:\n      user: {type: string}\n",
		"openapi/conversions/v2.yaml": "version: 2\nconversions:\n  - del(.auth.password)\ndescription:\n  en: Drops the password.\n  ru: Удаляет пароль.\n",
		"openapi/conversions/v3.yaml": "version: 3\nconversions:\n  - if .auth.login then .auth.user = .auth.login | del(.auth.login) end\n",
		ConversionCasesFile: `testcases:
  - name: drops the password
    currentVersion: 1
    expectedVersion: 2
    settings: |
      auth:
        password: secret
        login: admin
    expected: |
      auth:
        login: admin
  - name: whole chain, objects inline
    currentVersion: 1
    expectedVersion: 3
    settings: {auth: {password: secret, login: admin}}
    expected: {auth: {user: admin}}
  - name: wrong expectation
    currentVersion: 2
    expectedVersion: 3
    settings: "auth: {login: admin}"
    expected: "auth: {login: admin}"
  - name: past the latest version
    currentVersion: 1
    expectedVersion: 4
    settings: "{}"
    expected: "{}"
`,
	})
	rep := runTests(t, dir, Test{Match: regexp.MustCompile(`^conversions/`)})
	status := map[string]CaseResult{}
	for _, c := range rep.Cases {
		status[c.Name] = c
	}
	if len(rep.Cases) != 4 || rep.Passed != 2 || rep.Failed != 2 {
		t.Fatalf("want 2 passed and 2 failed conversion cases, got %+v", rep.Cases)
	}
	for _, name := range []string{"drops the password", "whole chain, objects inline"} {
		if c := status["conversions/"+name]; !c.Passed || c.File != ConversionCasesFile {
			t.Errorf("%s: %+v", name, c)
		}
	}
	if c := status["conversions/wrong expectation"]; c.Passed || !strings.Contains(c.Diff, "+    user: admin") || !strings.Contains(c.Diff, "-    login: admin") {
		t.Errorf("wrong expectation: want a diff, got %+v", c)
	}
	if c := status["conversions/past the latest version"]; c.Passed || !strings.Contains(c.Error, "no conversion to version 4") {
		t.Errorf("past the latest version: %+v", c)
	}

	// --run selects conversion cases by name too.
	rep = runTests(t, dir, Test{Match: regexp.MustCompile(`drops`)})
	if len(rep.Cases) != 1 || !rep.Cases[0].Passed {
		t.Fatalf("--run drops: %+v", rep.Cases)
	}
}
