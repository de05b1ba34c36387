package values

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	"github.com/itchyny/gojq"
	"sigs.k8s.io/yaml"
)

// ConversionsDir is where a module keeps its settings conversions.
const ConversionsDir = "openapi/conversions"

var conversionFile = regexp.MustCompile(`^v([0-9]+)\.ya?ml$`)

// Conversions are a module's settings conversions: openapi/conversions/vN.yaml
// turns settings of version N-1 into version N with jq expressions, applied
// in order. A nil *Conversions converts nothing.
type Conversions struct {
	steps []conversionStep // by version, ascending
}

type conversionStep struct {
	version int
	file    string
	exprs   []string
	code    []*gojq.Code
}

// conversionDoc is one vN.yaml.
type conversionDoc struct {
	Version     int      `json:"version"`
	Conversions []string `json:"conversions"`
	// Description (DKP modules write {en: ..., ru: ...}) is for people and
	// linters; the runtime accepts any shape and ignores it.
	Description any `json:"description,omitempty"`
}

// LoadConversions reads <moduleDir>/openapi/conversions; no directory means
// no conversions. Errors name the file and the expression.
func LoadConversions(moduleDir string) (*Conversions, error) {
	dir := filepath.Join(moduleDir, ConversionsDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ConversionsDir, err)
	}
	c := &Conversions{}
	for _, e := range entries {
		m := conversionFile.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		file := ConversionsDir + "/" + e.Name()
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		step, err := parseConversion(file, data)
		if err != nil {
			return nil, err
		}
		if want, _ := strconv.Atoi(m[1]); step.version != want {
			return nil, fmt.Errorf("%s: version: %d does not match the file name (want %d)", file, step.version, want)
		}
		c.steps = append(c.steps, step)
	}
	sort.Slice(c.steps, func(i, j int) bool { return c.steps[i].version < c.steps[j].version })
	for i, s := range c.steps {
		if i > 0 && s.version != c.steps[i-1].version+1 {
			return nil, fmt.Errorf("%s: the chain has a gap: v%d follows v%d", s.file, s.version, c.steps[i-1].version)
		}
	}
	return c, nil
}

// ParseConversion reads one conversion file (for tests and fuzzing).
func ParseConversion(file string, data []byte) error {
	_, err := parseConversion(file, data)
	return err
}

func parseConversion(file string, data []byte) (conversionStep, error) {
	var doc conversionDoc
	if err := yaml.UnmarshalStrict(data, &doc); err != nil {
		return conversionStep{}, fmt.Errorf("%s: %w", file, err)
	}
	if doc.Version < 2 {
		return conversionStep{}, fmt.Errorf("%s: version: want 2 or more (version 1 is the first schema), got %d", file, doc.Version)
	}
	step := conversionStep{version: doc.Version, file: file, exprs: doc.Conversions}
	for i, expr := range doc.Conversions {
		q, err := gojq.Parse(expr)
		if err != nil {
			return conversionStep{}, fmt.Errorf("%s: conversions[%d]: %w", file, i, err)
		}
		code, err := gojq.Compile(q)
		if err != nil {
			return conversionStep{}, fmt.Errorf("%s: conversions[%d]: %w", file, i, err)
		}
		step.code = append(step.code, code)
	}
	return step, nil
}

// Latest is the version the chain ends at (0 without conversions).
func (c *Conversions) Latest() int {
	if c == nil || len(c.steps) == 0 {
		return 0
	}
	return c.steps[len(c.steps)-1].version
}

// Convert brings settings written for version from up to the latest
// version. from 0 means "written for the current schema". It returns the
// converted settings and their version; the input is not modified.
func (c *Conversions) Convert(settings map[string]any, from int) (map[string]any, int, error) {
	latest := c.Latest()
	if from == 0 || latest == 0 {
		return settings, max(from, latest), nil
	}
	if from > latest {
		return nil, 0, fmt.Errorf("settings version %d is newer than the module's latest (%d)", from, latest)
	}
	out, err := c.ConvertBetween(settings, from, latest)
	if err != nil {
		return nil, 0, err
	}
	return out, latest, nil
}

// ConvertBetween applies the conversions that bring settings of version from
// to version to (v(from+1) ... v(to)), with the same code Convert runs; what
// `deckhand module test` checks conversion test cases with. from >= to
// returns the settings unchanged; a to past the latest version is an error.
func (c *Conversions) ConvertBetween(settings map[string]any, from, to int) (map[string]any, error) {
	if latest := c.Latest(); to > latest {
		return nil, fmt.Errorf("no conversion to version %d: the module's latest is %d", to, latest)
	}
	if from >= to {
		return Normalize(nonNilMap(settings))
	}
	// gojq wants plain JSON types.
	raw, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	var cur any
	if err := json.Unmarshal(raw, &cur); err != nil {
		return nil, err
	}
	for _, s := range c.steps {
		if s.version <= from || s.version > to {
			continue
		}
		for i, code := range s.code {
			iter := code.Run(cur)
			v, ok := iter.Next()
			if !ok {
				return nil, fmt.Errorf("%s: conversions[%d] %q gave no result", s.file, i, s.exprs[i])
			}
			if err, isErr := v.(error); isErr {
				return nil, fmt.Errorf("%s: conversions[%d] %q: %w", s.file, i, s.exprs[i], err)
			}
			cur = v
		}
	}
	m, ok := cur.(map[string]any)
	if !ok && cur != nil {
		return nil, fmt.Errorf("conversions to version %d gave %T, want an object", to, cur)
	}
	return Normalize(nonNilMap(m))
}
