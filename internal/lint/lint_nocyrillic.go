package lint

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// LinterNoCyrillic is dmt's no-cyrillic linter: its one rule, files, finds
// Cyrillic letters in a module's .yaml, .yml, .json and .go files.
const LinterNoCyrillic = "no-cyrillic"

var (
	// noCyrillicSkip are the files where dmt expects Russian: translations,
	// Russian docs, conversions (their descriptions are bilingual), module.yaml
	// and i18n directories. The patterns are unanchored, as dmt's are; they
	// are matched against "/" + the path relative to the module.
	noCyrillicSkip = regexp.MustCompile(`doc-ru-.+\.y[a]?ml$|\.ru\.y[a]?ml$|\.ru\.json$|\.ru\.md$|\.ru\.html$|_RU\.md$|_ru\.html$|docs/site/_.+|docs/documentation/_.+|tools/spelling/.+|openapi/conversions/.+|module.yaml|ru\..+|/i18n/|no_cyrillic(_test)?.go$`)
)

// lintNoCyrillic walks the module (skipping .git directories, as dmt does)
// and reports each file with Cyrillic letters once, at its first such line.
// .dmtlint.yaml excludes files with no-cyrillic.exclude-rules.files (exact
// paths) and .directories (a directory and everything under it).
func lintNoCyrillic(c *collector, dir string) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".yaml", ".yml", ".json", ".go":
		default:
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if noCyrillicSkip.MatchString("/" + rel) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			c.add(LinterNoCyrillic, "files", rel, 0, "reading the file: %v", err)
			return nil
		}
		if !mayHaveCyrillic(data) {
			return nil
		}
		if first, lines := cyrillicLines(data); first > 0 {
			c.add(LinterNoCyrillic, "files", rel, first, "has Cyrillic letters (write it in English; Russian text goes to doc-ru-*.yaml or *.ru.* files): %s", lines)
		}
		return nil
	})
	if err != nil {
		c.add(LinterNoCyrillic, "files", ".", 0, "walking the module: %v", err)
	}
}

// mayHaveCyrillic is a fast negative: every Cyrillic letter hasCyrillic
// looks for (U+0401..U+0451) is encoded in UTF-8 with a lead byte 0xD0 or
// 0xD1, so a file with neither has none. Most files of a module are skipped
// here without decoding a rune.
func mayHaveCyrillic(data []byte) bool {
	return bytes.IndexByte(data, 0xD0) >= 0 || bytes.IndexByte(data, 0xD1) >= 0
}

// cyrillicLines finds the lines of data with Russian letters: the first one's
// number (0 for none) and all of them as "line N: text; ...".
func cyrillicLines(data []byte) (first int, lines string) {
	var found []string
	for i, line := range strings.Split(string(data), "\n") {
		if hasCyrillic(line) {
			if first == 0 {
				first = i + 1
			}
			found = append(found, fmt.Sprintf("line %d: %s", i+1, strings.TrimSpace(line)))
		}
	}
	return first, strings.Join(found, "; ")
}

// hasCyrillic reports whether s holds a Russian letter (А-Я, а-я, Ё, ё).
func hasCyrillic(s string) bool {
	for _, r := range s {
		if r >= 'А' && r <= 'я' || r == 'Ё' || r == 'ё' {
			return true
		}
	}
	return false
}
