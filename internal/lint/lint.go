package lint

import (
	"context"
	"errors"
	"fmt"
	"github.com/deckhand-dev/deckhand/internal/module"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// Linter names (dmt's), used in Problem.Linter and .dmtlint.yaml.
const (
	LinterModule        = "module"
	LinterOpenAPI       = "openapi"
	LinterTemplates     = "templates"
	LinterContainer     = "container"
	LinterHooks         = "hooks"
	LinterDocumentation = "documentation"
	LinterImages        = "images"
)

// Lint checks a module directory with dmt's rules (the subset deckhand
// implements, see the rule list in the package's lint_*.go files), plus the
// checks the runtime itself would fail on: schemas, x-examples, hook configs,
// chart rendering.
type Lint struct {
	// KubeVersion for rendering; "" means the version of deckhand's client-go.
	KubeVersion string
	// Config overrides .dmtlint.yaml discovery when set.
	Config *LintConfig
}

// LintResult lists the problems found, sorted by file and line.
type LintResult struct {
	Dir      string    `json:"dir"`
	Problems []Problem `json:"problems"`
	// ConfigFile is the .dmtlint.yaml applied, if any.
	ConfigFile string `json:"configFile,omitempty"`
}

// Errors counts problems of error severity.
func (r *LintResult) Errors() int {
	n := 0
	for _, p := range r.Problems {
		if p.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Run lints the module in dir. An error is returned only when the directory
// cannot be read at all; everything wrong with the module is a Problem.
func (l *Lint) Run(ctx context.Context, dir string) (*LintResult, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("module directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("module directory %s is not a directory", abs)
	}
	cfg := l.Config
	if cfg == nil {
		if cfg, err = FindLintConfig(abs); err != nil {
			return nil, err
		}
	}
	c := &collector{}
	waitMarkdown := startMarkdown(abs)
	lintDefinition(c, abs)
	m, loadErr := module.LoadLenient(abs)
	if loadErr != nil {
		reportLoadError(c, loadErr)
	}
	lintFiles(c, abs)
	lintTextRules(c, abs, cfg)
	lintImages(c, abs, m, cfg)
	if m != nil {
		lintRequirements(c, m)
		lintCRDs(c, m)
		lintHooks(ctx, c, m)
		lintSchemas(c, m)
		// Conversions and renders need the schemas; a schema that could not
		// be built at all was reported above.
		if m.Schemas != nil {
			lintConversions(c, m)
			lintTemplates(ctx, c, m, l.KubeVersion)
		}
	}
	waitMarkdown(c)
	res := &LintResult{Dir: abs, ConfigFile: cfg.File}
	// Reported outside cfg.Apply: a configuration cannot silence the news
	// that part of it is ignored.
	for _, u := range cfg.UnsupportedSettings() {
		res.Problems = append(res.Problems, Problem{File: relTo(abs, cfg.File), Line: u.Line, Linter: LinterModule,
			Rule: "dmtlint", Severity: SeverityWarning, Message: u.String()})
	}
	for _, p := range c.problems {
		if p, keep := cfg.Apply(p); keep {
			res.Problems = append(res.Problems, p)
		}
	}
	sort.SliceStable(res.Problems, func(i, j int) bool {
		a, b := res.Problems[i], res.Problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return res, nil
}

type collector struct {
	problems []Problem
}

func (c *collector) add(linter, rule, file string, line int, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: file, Line: line, Linter: linter, Rule: rule, Severity: SeverityError, Message: oneLine(fmt.Sprintf(format, args...))})
}

func (c *collector) warn(linter, rule, file string, line int, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: file, Line: line, Linter: linter, Rule: rule, Severity: SeverityWarning, Message: oneLine(fmt.Sprintf(format, args...))})
}

// oneLine keeps each problem on one output line (Helm errors span several).
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (c *collector) addProblem(p Problem) { c.problems = append(c.problems, p) }

// reportLoadError turns what stopped Load into problems; module.yaml problems
// are already reported by lintDefinition.
func reportLoadError(c *collector, err error) {
	var fe *module.FileError
	for _, e := range unjoin(err) {
		var schemaErr *values.SchemaError
		if errors.As(e, &schemaErr) {
			c.add(LinterOpenAPI, "schema", schemaErr.File, schemaErr.Line, "%s", messageOf(schemaErr.Field, schemaErr.Err))
			continue
		}
		if errors.As(e, &fe) {
			if fe.File == module.DefinitionFile {
				continue
			}
			rule, linter := "definition-file", LinterModule
			if fe.File == "Chart.yaml" || fe.File == "values.yaml" {
				rule, linter = "helm-render", LinterTemplates
			}
			c.add(linter, rule, fe.File, fe.Line, "%s", messageOf(fe.Field, fe.Err))
			continue
		}
		c.add(LinterModule, "definition-file", ".", 0, "%v", e)
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func messageOf(field string, err error) string {
	if field == "" {
		return err.Error()
	}
	return field + ": " + err.Error()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
