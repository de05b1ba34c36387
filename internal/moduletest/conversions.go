package moduletest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// ConversionCasesFile holds a module's settings conversion test cases, in
// dmt's format (`dmt test conversions`):
//
//	testcases:
//	  - name: drops the password
//	    currentVersion: 1
//	    expectedVersion: 2
//	    settings: |
//	      auth: {password: secret}
//	    expected: |
//	      auth: {}
//
// settings and expected are YAML documents held in strings; deckhand also
// takes them as plain YAML objects.
const ConversionCasesFile = values.ConversionsDir + "/testcases.yaml"

// conversionCase is one entry of ConversionCasesFile.
type conversionCase struct {
	Name            string `json:"name"`
	CurrentVersion  int    `json:"currentVersion"`
	ExpectedVersion int    `json:"expectedVersion"`
	Settings        any    `json:"settings"`
	Expected        any    `json:"expected"`
}

// loadConversionCases reads ConversionCasesFile; no file means no cases.
func loadConversionCases(moduleDir string) ([]conversionCase, error) {
	data, err := os.ReadFile(filepath.Join(moduleDir, filepath.FromSlash(ConversionCasesFile)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ConversionCasesFile, err)
	}
	var doc struct {
		Testcases []conversionCase `json:"testcases"`
	}
	if err := yaml.UnmarshalStrict(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", ConversionCasesFile, err)
	}
	return doc.Testcases, nil
}

// conversionCaseName is what --run matches for a conversion case.
func conversionCaseName(c conversionCase, i int) string {
	if c.Name == "" {
		return fmt.Sprintf("conversions/%d", i)
	}
	return "conversions/" + c.Name
}

// runConversionCase converts the case's settings with the runtime's
// conversion code (values.Conversions) and compares them with expected.
func runConversionCase(conv *values.Conversions, c conversionCase, i int) (res CaseResult) {
	start := time.Now()
	res = CaseResult{File: ConversionCasesFile, Name: conversionCaseName(c, i)}
	defer func() { res.Duration = time.Since(start) }()
	where := fmt.Sprintf("%s: testcases[%d] (%s)", ConversionCasesFile, i, c.Name)
	settings, err := yamlObject(c.Settings)
	if err != nil {
		res.Error = fmt.Sprintf("%s: settings: %v", where, err)
		return res
	}
	want, err := yamlObject(c.Expected)
	if err != nil {
		res.Error = fmt.Sprintf("%s: expected: %v", where, err)
		return res
	}
	if conv == nil {
		res.Error = fmt.Sprintf("%s: the module has no conversions (%s/vN.yaml)", where, values.ConversionsDir)
		return res
	}
	got, err := conv.ConvertBetween(settings, c.CurrentVersion, c.ExpectedVersion)
	if err != nil {
		res.Error = fmt.Sprintf("%s: converting from version %d to %d: %v", where, c.CurrentVersion, c.ExpectedVersion, err)
		return res
	}
	if !reflect.DeepEqual(got, want) {
		res.Diff = unified("settings", want, got)
		return res
	}
	res.Passed = true
	return res
}

// yamlObject is a case's settings or expected value as normalized values:
// a string holding a YAML document, or the object itself.
func yamlObject(v any) (map[string]any, error) {
	out := map[string]any{}
	switch t := v.(type) {
	case nil:
	case string:
		if err := yaml.Unmarshal([]byte(t), &out); err != nil {
			return nil, fmt.Errorf("parsing YAML: %w", err)
		}
		if out == nil {
			out = map[string]any{}
		}
	case map[string]any:
		out = t
	default:
		return nil, fmt.Errorf("want an object or a string holding one, got %T", v)
	}
	return values.Normalize(out)
}
