package lint

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// imagesDir holds a module's image sources (images/<name>/Dockerfile,
// images/<name>/werf.inc.yaml, images/<name>/patches/).
const imagesDir = "images"

// hardcodedBaseImages maps the CI variable DKP builds provide to the
// hardcoded image a Dockerfile line names instead (dmt images/dockerfile).
var hardcodedBaseImages = []struct{ variable, image string }{
	{"$BASE_ALPINE", `alpine:[\d.]+`},
	{"$BASE_GOLANG_ALPINE", `golang:1.15.[\d.]+-alpine3.12`},
	{"$BASE_GOLANG_16_ALPINE", `golang:1.16.[\d.]+-alpine3.12`},
	{"$BASE_GOLANG_BUSTER", `golang:1.15.[\d.]+-buster`},
	{"$BASE_GOLANG_16_BUSTER", `golang:1.16.[\d.]+-buster`},
	{"$BASE_NGINX_ALPINE", `nginx:[\d.]+-alpine`},
	{"$BASE_PYTHON_ALPINE", `python:[\d.]+-alpine`},
	{"$BASE_UBUNTU", `ubuntu:[\d.]+`},
	{"$BASE_JEKYLL", `jekyll/jekyll:[\d.]+`},
	{"$BASE_SCRATCH", `scratch:[\d.]+`},
}

var hardcodedBaseImageRes = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(hardcodedBaseImages))
	for i, b := range hardcodedBaseImages {
		out[i] = regexp.MustCompile(`^(from:|FROM)(\s+)(` + b.image + `)`)
	}
	return out
}()

var (
	sha256Digest   = regexp.MustCompile(`@sha256:[A-Fa-f0-9]{64}`)
	patchFileName  = regexp.MustCompile(`^\d{3}-.*\.patch$`)
	patchDirectory = regexp.MustCompile(`^images/[\w/\-.]*/patches.*$`)
)

// lintImages runs dmt's images linter: dockerfile, distroless, patches and
// werf. cfg supplies images.exclude-rules.skip-distroless-file-path-prefix,
// which changes what the first two rules report rather than only hiding it.
func lintImages(c *collector, dir string, m *module.Module, cfg *LintConfig) {
	moduleName := filepath.Base(dir)
	if m != nil && m.Definition != nil && m.Definition.Name != "" {
		moduleName = m.Definition.Name
	}
	skip := cfg.imagesSkipPrefixes()
	for _, df := range dockerfiles(dir) {
		lintDockerfile(c, dir, df, skip)
	}
	lintPatches(c, dir)
	lintWerf(c, dir, moduleName)
}

// dockerfiles lists the files named Dockerfile under images/, relative to it.
func dockerfiles(dir string) []string {
	root := filepath.Join(dir, imagesDir)
	var out []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable parts are skipped, as dmt's walk does
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "Dockerfile" {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

// lintDockerfile runs images/dockerfile (no hardcoded base images where a CI
// variable exists) and images/distroless (the last FROM is a distroless DKP
// base image, earlier ones are DKP base images or pinned by digest). rel is
// relative to images/, as dmt's skip prefixes are.
//
// Both are warnings here: dmt registers them as errors, but its current
// release returns before checking any file (it tests images/ with IsFile), so
// DKP's CI passes modules these rules would stop. deckhand still points the
// problems out without failing a module dmt accepts; a .dmtlint.yaml impact
// of error makes them errors.
func lintDockerfile(c *collector, dir, rel string, skip []string) {
	file := imagesDir + "/" + rel
	data, err := os.ReadFile(filepath.Join(dir, imagesDir, filepath.FromSlash(rel)))
	if err != nil {
		c.add(LinterImages, "dockerfile", file, 0, "reading the Dockerfile: %v", err)
		return
	}
	skipped := false
	for _, p := range skip {
		if strings.HasPrefix(rel, p) {
			skipped = true
		}
	}
	type from struct {
		line  int
		value string
	}
	var froms []from
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !skipped {
			for i, re := range hardcodedBaseImageRes {
				if re.MatchString(line) {
					c.warn(LinterImages, "dockerfile", file, n, "use %s instead of a hardcoded base image", hardcodedBaseImages[i].variable)
				}
			}
		}
		if v, ok := strings.CutPrefix(line, "FROM "); ok {
			froms = append(froms, from{n, v})
		}
	}
	for i, f := range froms {
		if skipped {
			// dmt says so rather than staying silent, so an exclusion stays visible.
			c.warn(LinterImages, "distroless", file, f.line, "distroless check skipped for FROM %s (images.exclude-rules.skip-distroless-file-path-prefix)", f.value)
			continue
		}
		if msg := distrolessProblem(f.value, i == len(froms)-1); msg != "" {
			c.warn(LinterImages, "distroless", file, f.line, "FROM %s: %s", f.value, msg)
		}
	}
}

func distrolessProblem(from string, final bool) string {
	if from == "scratch" {
		return ""
	}
	if final {
		img := strings.TrimPrefix(strings.TrimPrefix(from, "$.Images."), ".Images.")
		if strings.HasPrefix(img, "$BASE_DISTROLESS") || strings.HasPrefix(img, "$BASE_ALT") {
			return ""
		}
		return "the last FROM must use a distroless DKP base image ($BASE_DISTROLESS or $BASE_ALT)"
	}
	if strings.HasPrefix(from, "$BASE_") || sha256Digest.MatchString(from) {
		return ""
	}
	return "an intermediate FROM must use a DKP base image ($BASE_...) or pin the image by @sha256: digest"
}

// lintPatches runs images/patches: every *.patch in the module lives in
// images/<image>/patches/, is named NNN-<name>.patch and is described under
// a "# <file name>" heading in that directory's README.md.
func lintPatches(c *collector, dir string) {
	var patches []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() && filepath.Ext(p) == ".patch" {
			rel, _ := filepath.Rel(dir, p)
			patches = append(patches, filepath.ToSlash(rel))
		}
		return nil
	})
	dirs := map[string]bool{}
	for _, p := range patches {
		dirs[filepath.ToSlash(filepath.Dir(p))] = true
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	readmes := map[string]string{}
	for _, d := range sorted {
		if !patchDirectory.MatchString(d) {
			c.add(LinterImages, "patches", d, 0, "patch files belong in images/<image>/patches/")
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(d), "README.md"))
		if err != nil {
			c.add(LinterImages, "patches", d, 0, "the patches directory needs a README.md describing each patch")
			continue
		}
		readmes[d] = string(data)
	}
	for _, p := range patches {
		base := filepath.Base(p)
		if !patchFileName.MatchString(base) {
			c.add(LinterImages, "patches", p, 0, "patch file name must look like NNN-<name>.patch (three digits order the patches)")
		}
		if readme, ok := readmes[filepath.ToSlash(filepath.Dir(p))]; ok && !strings.Contains(readme, "# "+base) {
			c.add(LinterImages, "patches", p, 0, "README.md next to the patch has no %q heading describing it", "# "+base)
		}
	}
}

// imagesSkipPrefixes reads images.exclude-rules.skip-distroless-file-path-prefix:
// paths under images/ whose Dockerfiles dmt does not check (dockerfile) or
// only warns about (distroless).
func (c *LintConfig) imagesSkipPrefixes() []string {
	if c == nil {
		return nil
	}
	images, _ := c.module[LinterImages].(map[string]any)
	ex, _ := images["exclude-rules"].(map[string]any)
	list, _ := ex["skip-distroless-file-path-prefix"].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}
