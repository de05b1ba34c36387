package lint

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Which files module/license reads (paths relative to the module) and which
// it leaves alone: generated code, vendored libraries, build files.
var (
	licenseChecked = regexp.MustCompile(`\.go$|/[^.]+$|\.sh$|\.lua$|\.py$`)
	licenseSkipped = regexp.MustCompile(`geohash.lua$|\.github/.*|Dockerfile$|Makefile$|/docs/documentation/|/docs/site/|bashrc$|inputrc$` +
		`|modules_menu_skip$|LICENSE$|tools/spelling/.+|/lib/python/|charts/helm_lib|PROJECT|pb.go$` +
		`|zz_generated.go$|zz_generated.*\.go$|zz_generated.*\.yaml$`)
	generatedMarker = regexp.MustCompile(`generated[\s\S]{0,200}?do\s*not\s*(edit|modify)`)
)

const apacheBody = `

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.`

// licenseHeaders are the headers DKP accepts (Apache 2.0 as is, as modified
// by Flant, by SPDX id, and the EE license); @YEAR@ is 20xx, @ANY@ is any
// text on that line.
var licenseHeaders = func() []*regexp.Regexp {
	texts := []string{
		"Copyright @YEAR@ Flant JSC@ANY@" + apacheBody,
		"Copyright @YEAR@ Flant JSC@ANY@\n\nModifications made by Flant JSC as part of the Deckhouse project." + apacheBody,
		"Copyright (c)@ANY@ Flant JSC@ANY@\nSPDX-License-Identifier: Apache-2.0",
		"Copyright @YEAR@ Flant JSC@ANY@\nLicensed under the Deckhouse Platform Enterprise Edition (EE) license. See https://github.com/deckhouse/deckhouse/blob/main/ee/LICENSE",
	}
	out := make([]*regexp.Regexp, len(texts))
	for i, t := range texts {
		p := regexp.QuoteMeta(normalizeComment(t))
		p = strings.ReplaceAll(p, "@YEAR@", "20[0-9]{2}")
		p = strings.ReplaceAll(p, "@ANY@", `[^\n]*?`)
		out[i] = regexp.MustCompile(p)
	}
	return out
}()

// commentStyle is a line prefix ("//") or a block (start, end).
type commentStyle struct{ line, start, end string }

var (
	slashStyles = []commentStyle{{line: "//"}, {start: "/*", end: "*/"}}
	hashStyles  = []commentStyle{{line: "#"}}
	pyStyles    = []commentStyle{{line: "#"}, {start: `"""`, end: `"""`}, {start: `'''`, end: `'''`}}
	luaStyles   = []commentStyle{{line: "--"}, {start: "--[[", end: "--]]"}}
)

// lintLicense runs module/license: source files (Go, shell, Python, Lua and
// extension-less scripts) start with one of the license headers DKP accepts,
// unless marked generated. exclude-rules.license {files, directories} applies.
func lintLicense(c *collector, dir string) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := os.Stat(p) // a symlink counts as what it points to
		if err != nil || fi.IsDir() || fi.Size() == 0 {
			return nil
		}
		rel := relTo(dir, p)
		if !licenseChecked.MatchString(rel) || licenseSkipped.MatchString(rel) {
			return nil
		}
		if msg := licenseProblem(p); msg != "" {
			c.add(LinterModule, "license", rel, 0, "%s", msg)
		}
		return nil
	})
}

func licenseProblem(path string) string {
	styles := commentStylesOf(path)
	if styles == nil {
		return ""
	}
	header, err := readHead(path, 2048)
	if err != nil {
		return "reading the file: " + err.Error()
	}
	if generatedMarker.MatchString(strings.ToLower(header)) {
		return ""
	}
	text := ""
	for _, s := range styles {
		if text = commentText(header, s); text != "" {
			break
		}
	}
	if text == "" {
		return "no license header found: start the file with the Flant JSC Apache 2.0 (or EE) license comment"
	}
	text = normalizeComment(text)
	for _, re := range licenseHeaders {
		if re.MatchString(text) {
			return ""
		}
	}
	return "the license header matches none of the accepted ones (Flant JSC Apache 2.0, its SPDX form, or the EE license)"
}

func commentStylesOf(path string) []commentStyle {
	if strings.HasSuffix(path, "Dockerfile") {
		return hashStyles
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".go", ".js", ".ts", ".jsx", ".tsx", ".c", ".h", ".cpp", ".hpp", ".cc", ".hh":
		return slashStyles
	case ".sh", ".bash", ".yaml", ".yml":
		return hashStyles
	case ".py":
		return pyStyles
	case ".lua":
		return luaStyles
	case "":
		// An extension-less file is a script when its shebang says so.
		head, err := readHead(path, 100)
		if err != nil || !strings.HasPrefix(strings.TrimSpace(head), "#!/") {
			return nil
		}
		if strings.Contains(head, "sh") || strings.Contains(head, "bash") {
			return hashStyles
		}
		if strings.Contains(head, "python") {
			return pyStyles
		}
	}
	return nil
}

func readHead(path string, n int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, n)
	got, err := f.Read(buf)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return string(buf[:got]), nil
}

// commentText extracts the license comment: the first block comment, or the
// run of line comments from the one starting "Copyright" to the license's
// last line.
func commentText(header string, s commentStyle) string {
	if s.start != "" {
		i := strings.Index(header, s.start)
		if i < 0 {
			return ""
		}
		rest := header[i+len(s.start):]
		j := strings.Index(rest, s.end)
		if j < 0 {
			return ""
		}
		return normalizeComment(rest[:j])
	}
	var lines []string
	started := false
	sc := bufio.NewScanner(strings.NewReader(header))
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		body, isComment := strings.CutPrefix(t, s.line)
		if !isComment {
			if started && t != "" {
				break
			}
			continue
		}
		body = strings.TrimSpace(body)
		if !started && strings.HasPrefix(strings.ToLower(body), "copyright") {
			started = true
		}
		if started {
			lines = append(lines, body)
			if strings.Contains(body, "limitations under the License") || strings.Contains(body, "See https://github.com/deckhouse/deckhouse") {
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}

// normalizeComment trims each line and the "*" that block comments often
// start lines with.
func normalizeComment(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		l = strings.TrimPrefix(l, "* ")
		l = strings.TrimPrefix(l, " *")
		l = strings.TrimPrefix(l, "*")
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}
