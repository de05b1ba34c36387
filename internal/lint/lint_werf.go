package lint

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

// werfFileName is the werf configuration dmt renders: the first werf.yaml
// found in the module directory or one of its parents.
const werfFileName = "werf.yaml"

var werfDocSeparator = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

// werfImage is the part of a rendered werf image dmt's werf rule reads.
type werfImage struct {
	Artifact  string `json:"artifact"`
	Image     string `json:"image"`
	Final     *bool  `json:"final"`
	FromImage string `json:"fromImage"`
	ImageSpec struct {
		Config struct {
			User string `json:"user"`
		} `json:"config"`
	} `json:"imageSpec"`
}

// lintWerf runs images/werf on the rendered werf.yaml: the module's final
// images (named "<module>/...") build from base/ images, do not use the
// deprecated artifact directive and do not override imageSpec.config.user.
func lintWerf(c *collector, dir, moduleName string) {
	werfFile := findWerfFile(dir)
	if werfFile == "" {
		return
	}
	rel := relTo(dir, werfFile)
	rendered, err := renderWerf(werfFile, dir)
	if err != nil {
		c.add(LinterImages, "werf", rel, 0, "rendering werf.yaml the way werf does: %v", err)
		return
	}
	for i, doc := range splitWerfDocs(rendered) {
		var w werfImage
		if err := yaml.Unmarshal([]byte(doc), &w); err != nil {
			c.add(LinterImages, "werf", rel, 0, "rendered document %d is not valid YAML: %v", i+1, err)
			continue
		}
		prefix, _, ok := strings.Cut(w.Image, "/")
		if !ok || prefix != moduleName {
			continue
		}
		from := strings.TrimSpace(w.FromImage)
		if from == "" {
			continue
		}
		where := fmt.Sprintf("image %s (rendered document %d)", w.Image, i+1)
		if w.Artifact != "" {
			c.add(LinterImages, "werf", rel, 0, "%s: artifact: is deprecated, use from: or fromImage: with final: false", where)
		}
		if w.Final != nil && !*w.Final {
			continue
		}
		// dmt exempts terraform-manager, which builds from its own base images.
		if base, _, _ := strings.Cut(from, "/"); base != "base" && base != "common" && moduleName != "terraform-manager" {
			c.add(LinterImages, "werf", rel, 0, "%s: fromImage %q must be a DKP base image (base/<name>)", where, from)
		}
		if u := w.ImageSpec.Config.User; u != "" {
			// dmt only warns for istio and ingress-nginx, which still need it.
			if moduleName == "istio" || moduleName == "ingress-nginx" {
				c.warn(LinterImages, "werf", rel, 0, "%s: imageSpec.config.user %q should be empty", where, u)
			} else {
				c.add(LinterImages, "werf", rel, 0, "%s: imageSpec.config.user %q must be empty (the user is set by the Pod's securityContext)", where, u)
			}
		}
	}
}

func findWerfFile(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, werfFileName)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

func splitWerfDocs(s string) []string {
	var out []string
	for _, d := range werfDocSeparator.Split(strings.TrimSpace(s), -1) {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// renderWerf executes werf.yaml as werf does, with the .werf/*.tmpl
// templates next to it, werf's template functions and .Files.
func renderWerf(werfFile, moduleDir string) (string, error) {
	content, err := os.ReadFile(werfFile)
	if err != nil {
		return "", err
	}
	tmpl := template.New("werf.yaml")
	tmpl.Funcs(werfFuncs(tmpl))
	if tmpl, err = tmpl.Parse(string(content)); err != nil {
		return "", err
	}
	root := filepath.Dir(werfFile)
	if err := addWerfTemplates(tmpl, filepath.Join(root, ".werf")); err != nil {
		return "", err
	}
	now := time.Now()
	data := map[string]any{
		"Files": werfFiles{root: root, moduleDir: moduleDir},
		"Env":   cmp.Or(os.Getenv("WERF_ENV"), "EE"),
		"Commit": map[string]any{"Hash": "hash", "Date": map[string]string{
			"Human": now.Format(time.RFC3339), "Unix": strconv.FormatInt(now.Unix(), 10)}},
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "werf.yaml", data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// addWerfTemplates parses the .tmpl files under werfDir (werf's .werf
// directory) into tmpl, named by their path there, so werf.yaml and
// werf.inc.yaml files can include them; no directory is fine.
func addWerfTemplates(tmpl *template.Template, werfDir string) error {
	return filepath.WalkDir(werfDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".tmpl" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		name, _ := filepath.Rel(werfDir, p)
		_, err = tmpl.New(filepath.ToSlash(name)).Parse(string(data))
		return err
	})
}

func werfFuncs(tmpl *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "expandenv")
	exec := func(name string, data any) (string, error) {
		var buf bytes.Buffer
		err := tmpl.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	f["include"] = exec
	f["tpl"] = func(text string, data any) (string, error) {
		t, err := template.New("tpl").Funcs(werfFuncs(tmpl)).Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	f["fromYaml"] = func(s string) (map[string]any, error) {
		m := map[string]any{}
		return m, yaml.Unmarshal([]byte(s), &m)
	}
	f["toYaml"] = func(v any) string {
		data, err := yaml.Marshal(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(string(data), "\n")
	}
	f["env"] = func(name any, fallback ...string) (string, error) {
		if len(fallback) > 1 {
			return "", fmt.Errorf("env takes at most one fallback")
		}
		v, ok := os.LookupEnv(fmt.Sprint(name))
		if (!ok || v == "") && len(fallback) == 1 {
			return fallback[0], nil
		}
		return v, nil
	}
	f["required"] = func(msg string, v any) (any, error) {
		if v == nil || v == "" {
			return nil, fmt.Errorf("%s", msg)
		}
		return v, nil
	}
	return f
}

// werfFiles is werf's .Files: paths are relative to werf.yaml's directory,
// except that werf.inc.yaml globs look in the module (dmt's rule for DKP's
// "modules/*/images/*/werf.inc.yaml").
type werfFiles struct{ root, moduleDir string }

func (f werfFiles) Get(rel string) (string, error) {
	if rel == "base_images.yml" || rel == "base_images.yaml" {
		return "", nil // outside the module; dmt renders it empty too
	}
	data, err := os.ReadFile(filepath.Join(f.root, filepath.FromSlash(rel)))
	return string(data), err
}

func (f werfFiles) Glob(pattern string) (map[string]any, error) {
	dir := f.root
	if strings.Contains(pattern, "werf.inc.yaml") {
		dir, pattern = f.moduleDir, strings.TrimPrefix(pattern, "modules/*")
	}
	matches, err := globFiles(dir, pattern)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(f.root, m)
		out[filepath.ToSlash(rel)] = string(data)
	}
	return out, nil
}

func (f werfFiles) Exists(rel string) bool {
	fi, err := os.Stat(filepath.Join(f.root, filepath.FromSlash(rel)))
	return err == nil && !fi.IsDir()
}

// globFiles lists the files under dir matching a werf glob: "*" and "?"
// within a path segment, "**" across segments, "{a,b}" alternatives.
func globFiles(dir, pattern string) ([]string, error) {
	var re strings.Builder
	re.WriteString("^")
	depth := 0
	for i := 0; i < len(pattern); i++ {
		switch ch := pattern[i]; {
		case ch == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			i++
			if i+1 < len(pattern) && pattern[i+1] == '/' {
				i++
				re.WriteString("(?:.*/)?")
			} else {
				re.WriteString(".*")
			}
		case ch == '*':
			re.WriteString("[^/]*")
		case ch == '?':
			re.WriteString("[^/]")
		case ch == '{':
			depth++
			re.WriteString("(?:")
		case ch == '}' && depth > 0:
			depth--
			re.WriteString(")")
		case ch == ',' && depth > 0:
			re.WriteString("|")
		default:
			re.WriteString(regexp.QuoteMeta(string(ch)))
		}
	}
	re.WriteString("$")
	match, err := regexp.Compile(re.String())
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	var out []string
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if rel, _ := filepath.Rel(dir, p); match.MatchString(filepath.ToSlash(rel)) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}
