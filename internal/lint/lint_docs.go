package lint

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	sigsyaml "sigs.k8s.io/yaml"
)

// dmt's documentation linter: docs/README.md exists and is not empty (readme),
// every English page has a Russian twin (bilingual), English pages hold no
// Cyrillic (cyrillic-in-english), front matter has no "lang" key
// (no-lang-key) and parses as YAML (front-matter), docs/ stays under 15 MiB
// (size) and pages other than README.md pass markdownlint (markdownlint).

// docsSizeLimit is dmt's budget for docs/ (docs/internal excluded).
const docsSizeLimit = 15 << 20

var (
	frontMatterFence = regexp.MustCompile(`^---\s*$`)
	langKeyLine      = regexp.MustCompile(`^lang:\s`)
	ruDocSuffix      = regexp.MustCompile(`\.ru\.md$`)
	ruDocOldSuffix   = regexp.MustCompile(`(?i)_ru\.md$`)
)

func lintDocs(c *collector, dir string) {
	docs := filepath.Join(dir, "docs")
	readme := filepath.Join(docs, "README.md")
	if fi, err := os.Stat(readme); err != nil {
		c.add(LinterDocumentation, "readme", "docs/README.md", 0, "docs/README.md is missing: describe the module there (and in docs/README.ru.md)")
	} else if fi.Size() == 0 {
		c.add(LinterDocumentation, "readme", "docs/README.md", 0, "docs/README.md is empty")
	}
	if fi, err := os.Stat(docs); err != nil || !fi.IsDir() {
		return
	}
	top := topLevelDocs(docs)
	lintDocsBilingual(c, top)
	for _, name := range top {
		rel := "docs/" + name
		data, err := os.ReadFile(filepath.Join(docs, name))
		if err != nil {
			c.add(LinterDocumentation, "cyrillic-in-english", rel, 0, "reading the page: %v", err)
			continue
		}
		if filepath.Ext(name) == ".md" || filepath.Ext(name) == ".markdown" {
			if !ruDocSuffix.MatchString(name) && !ruDocOldSuffix.MatchString(name) {
				lintCyrillicInEnglish(c, rel, data)
			}
		}
		if filepath.Ext(name) != ".md" {
			continue
		}
		lintLangKey(c, rel, data)
	}
	lintDocsTree(c, docs)
}

// topLevelDocs lists the names of the .md and .markdown files directly in
// docs/ (dmt's page rules look no deeper), sorted.
func topLevelDocs(docs string) []string {
	entries, err := os.ReadDir(docs)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if ext := filepath.Ext(e.Name()); ext == ".md" || ext == ".markdown" {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// lintDocsBilingual: each English page X.md needs X.ru.md (or the older
// x_ru.md spelling, matched case-insensitively).
func lintDocsBilingual(c *collector, names []string) {
	have := map[string]bool{}
	for _, n := range names {
		if filepath.Ext(n) != ".md" {
			continue
		}
		if strings.HasSuffix(strings.ToLower(n), "_ru.md") {
			n = strings.ToLower(n)
		}
		have[n] = true
	}
	for _, n := range names {
		if filepath.Ext(n) != ".md" || strings.HasSuffix(n, "_ru.md") || strings.HasSuffix(n, ".ru.md") || strings.HasSuffix(strings.ToLower(n), "_ru.md") {
			continue
		}
		base := strings.TrimSuffix(n, ".md")
		if have[strings.ToLower(base)+"_ru.md"] || have[base+".ru.md"] {
			continue
		}
		c.add(LinterDocumentation, "bilingual", "docs/"+n, 0, "the Russian version is missing: add docs/%s.ru.md", base)
	}
}

func lintCyrillicInEnglish(c *collector, rel string, data []byte) {
	if first, lines := cyrillicLines(data); first > 0 {
		c.add(LinterDocumentation, "cyrillic-in-english", rel, first, "the English page has Cyrillic letters (move the text to the .ru.md page): %s", lines)
	}
}

// frontMatterBlock returns the lines between the first two "---" lines of a
// page (anywhere in it, as dmt's no-lang-key looks) and the 0-based index of
// the opening one; ok is false when there is no such pair.
func frontMatterBlock(lines []string) (block []string, start int, ok bool) {
	start = -1
	for i, l := range lines {
		if !frontMatterFence.MatchString(l) {
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		return lines[start+1 : i], start, true
	}
	return nil, 0, false
}

func lintLangKey(c *collector, rel string, data []byte) {
	block, start, ok := frontMatterBlock(strings.Split(string(data), "\n"))
	if !ok {
		return
	}
	for i, l := range block {
		// dmt matches "lang:" and a whitespace character in the joined block,
		// so a bare "lang:" counts unless it is the block's last line.
		if langKeyLine.MatchString(l) || (l == "lang:" && i < len(block)-1) {
			c.add(LinterDocumentation, "no-lang-key", rel, start+2+i, "front matter has a lang key: remove it (the language comes from the file name)")
			return
		}
	}
}

// lintDocsTree runs the rules over the whole docs/ tree except docs/internal,
// which is not published: front-matter on every .md page, and size.
func lintDocsTree(c *collector, docs string) {
	internal := filepath.Join(docs, "internal")
	var total int64
	err := filepath.WalkDir(docs, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == internal {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		if filepath.Ext(p) == ".md" {
			rel, _ := filepath.Rel(filepath.Dir(docs), p)
			lintFrontMatter(c, filepath.ToSlash(rel), p)
		}
		return nil
	})
	if err != nil {
		c.warn(LinterDocumentation, "size", "docs", 0, "measuring docs/: %v", err)
		return
	}
	if total > docsSizeLimit {
		// dmt keeps this rule at warning level unless its own impact is raised.
		c.warnAt(ruleRaisable, LinterDocumentation, "size", "docs", 0, "docs/ holds %.1f MiB, over the 15 MiB limit (docs/internal not counted): move large assets out", float64(total)/(1<<20))
	}
}

func lintFrontMatter(c *collector, rel, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		c.add(LinterDocumentation, "front-matter", rel, 0, "reading the page: %v", err)
		return
	}
	// Only a "---" on the very first line (after a UTF-8 byte-order mark) opens
	// front matter for the site generator; a later "---" is a thematic break.
	lines := strings.Split(string(bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})), "\n")
	if !frontMatterFence.MatchString(lines[0]) {
		return
	}
	end := -1
	for i := 1; i < len(lines); i++ {
		if frontMatterFence.MatchString(lines[i]) {
			end = i
			break
		}
	}
	if end < 0 {
		c.add(LinterDocumentation, "front-matter", rel, 1, "the front matter opened by --- on line 1 is never closed: add a --- line after it")
		return
	}
	var v any
	if err := sigsyaml.Unmarshal([]byte(strings.Join(lines[1:end], "\n")), &v); err != nil {
		c.add(LinterDocumentation, "front-matter", rel, 1, "the front matter is not valid YAML: %v", err)
		return
	}
	if _, isMap := v.(map[string]any); v != nil && !isMap {
		// dmt reports this shape as a warning only: "---" may open something
		// other than metadata.
		c.warnAt(alwaysWarn, LinterDocumentation, "front-matter", rel, 1, "the front matter must be a YAML mapping of key: value metadata, not %T", v)
	}
}

// warnAt records a warning that .dmtlint.yaml impacts raise only as far as
// ceiling allows (see warnCeiling).
func (c *collector) warnAt(ceiling warnCeiling, linter, rule, file string, line int, format string, args ...any) {
	c.addProblem(Problem{File: file, Line: line, Linter: linter, Rule: rule, Severity: SeverityWarning,
		Message: oneLine(fmt.Sprintf(format, args...)), ceiling: ceiling})
}
