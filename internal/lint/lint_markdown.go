package lint

import (
	"context"
	"path/filepath"
	"sort"
	"strings"

	markdownlint "github.com/ldmonster/go-markdownlint"
)

// startMarkdown runs documentation/markdownlint on the top-level docs pages
// other than README.md (DKP checks README.md in its own pipeline) through the
// markdownlint library dmt uses, with DKP's rule settings. It runs beside the
// other checks, which do not touch docs/ (it is as slow as the chart render
// on a module with many pages); the returned func waits and adds its
// problems to c.
func startMarkdown(dir string) (wait func(c *collector)) {
	var rels []string
	for _, name := range topLevelDocs(filepath.Join(dir, "docs")) {
		if filepath.Ext(name) == ".md" && name != "README.md" {
			rels = append(rels, "docs/"+name)
		}
	}
	if len(rels) == 0 {
		return func(*collector) {}
	}
	done := make(chan []Problem, 1)
	go func() {
		mc := &collector{}
		lintMarkdown(mc, dir, rels)
		done <- mc.problems
	}()
	return func(c *collector) {
		for _, p := range <-done {
			c.addProblem(p)
		}
	}
}

// lintMarkdown lints the pages rels (relative to the module directory dir).
func lintMarkdown(c *collector, dir string, rels []string) {
	files := make([]string, len(rels))
	byFile := make(map[string]string, len(rels))
	for i, rel := range rels {
		files[i] = filepath.Join(dir, filepath.FromSlash(rel))
		byFile[files[i]] = rel
	}
	// The pages are local files of bounded size: nothing to cancel.
	results, err := markdownlint.LintFiles(context.Background(), files, markdownlint.ConfigFromMap(dkpMarkdownlintSettings()))
	if err != nil {
		c.add(LinterDocumentation, "markdownlint", "docs", 0, "markdownlint failed: %v", err)
		return
	}
	names := make([]string, 0, len(results))
	for f := range results {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		rel := byFile[f]
		if rel == "" {
			rel = relTo(dir, f)
		}
		for _, e := range results[f] {
			c.add(LinterDocumentation, "markdownlint", rel, e.LineNumber, "%s %s", strings.Join(e.RuleNames, "/"), e.RuleDescription)
		}
	}
}

// dkpMarkdownlintSettings are the markdownlint rules DKP's documentation
// checks differ from the defaults in (every other rule is on): long lines are
// fine in prose and tables, HTML and list spacing are free, lists may number
// 1. 1. 1. or 1. 2. 3., and the styles only have to be consistent per page.
func dkpMarkdownlintSettings() map[string]any {
	consistent := map[string]any{"style": "consistent"}
	return map[string]any{
		"MD002": false, "MD004": false, "MD032": false, "MD033": false, "MD051": false, "MD060": false,
		"MD013": map[string]any{
			"line_length": 1000, "heading_line_length": 128, "code_block_line_length": 400,
			"code_blocks": true, "tables": true, "headings": true, "headers": true, "strict": false, "stern": false,
		},
		"MD022": map[string]any{"lines_above": 1, "lines_below": 1},
		"MD024": map[string]any{"siblings_only": true},
		"MD026": map[string]any{"punctuation": ".,;:!。，；：！"},
		"MD029": map[string]any{"style": "one_or_ordered"},
		"MD041": map[string]any{"level": 1, "front_matter_title": `^\s*title\s*[:=]`},
		"MD042": true,
		"MD043": map[string]any{"headings": nil, "headers": nil},
		"MD044": map[string]any{"names": []string{}, "code_blocks": true},
		"MD045": true,
		"MD046": consistent,
		"MD047": true,
		"MD048": consistent,
		"MD049": consistent,
		"MD050": consistent,
	}
}
