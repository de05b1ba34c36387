package module

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// settingsLayer is one source of user settings: a -f file or one --set*
// flag, with what it set, so a bad value can be traced back to it.
type settingsLayer struct {
	// from names the source in errors: "values file x.yaml", "--set a=b".
	from string
	// data is a file's content, for line numbers; nil for flags.
	data []byte
	// set is what this source alone sets.
	set map[string]any
}

type settingsLayers []settingsLayer

// settings merges Settings, the -f files and the --set* flags in Helm's order
// (helm.sh/helm/v4/pkg/cli/values.Options.MergeValues): files, --set-json,
// --set, --set-string, --set-file, --set-literal; each later one wins.
func (r *Render) settings() (map[string]any, settingsLayers, error) {
	out := values.Merge(r.Settings)
	var layers settingsLayers
	for _, f := range r.SettingsFiles {
		from := "values file " + f
		data, set, err := readYAMLMap(f)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", from, err)
		}
		out = values.Merge(out, set)
		layers = append(layers, settingsLayer{from: from, data: data, set: set})
	}
	flags := []struct {
		name  string
		vals  []string
		parse func(s string, dest map[string]any) error
	}{
		{"--set-json", r.SetJSON, parseJSONSetting},
		{"--set", r.Set, strvals.ParseInto},
		{"--set-string", r.SetString, strvals.ParseIntoString},
		{"--set-file", r.SetFile, func(s string, dest map[string]any) error {
			return strvals.ParseIntoFile(s, dest, readSetFile)
		}},
		{"--set-literal", r.SetLiteral, strvals.ParseLiteralInto},
	}
	for _, fl := range flags {
		for _, s := range fl.vals {
			from := fl.name + " " + s
			// Parsed twice: alone, to know what this flag sets, and into the
			// merged settings, where list indexes and nesting combine as in Helm.
			set := map[string]any{}
			if err := fl.parse(s, set); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", from, err)
			}
			if err := fl.parse(s, out); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", from, err)
			}
			layers = append(layers, settingsLayer{from: from, set: set})
		}
	}
	return out, layers, nil
}

// parseJSONSetting is --set-json: a whole JSON object merged in, or
// key=JSON-value.
func parseJSONSetting(s string, dest map[string]any) error {
	trimmed := strings.TrimSpace(s)
	if !strings.HasPrefix(trimmed, "{") {
		return strvals.ParseJSON(s, dest)
	}
	obj := map[string]any{}
	if err := json.Unmarshal([]byte(trimmed), &obj); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	merged := values.Merge(dest, obj)
	for k := range dest {
		delete(dest, k)
	}
	for k, v := range merged {
		dest[k] = v
	}
	return nil
}

// readSetFile reads the file a --set-file key=PATH names; its content is the value.
func readSetFile(path []rune) (any, error) {
	data, err := os.ReadFile(string(path))
	if err != nil {
		return nil, err
	}
	return string(data), nil
}

// sourceFunc is source, or nil without flags and files to blame.
func (ls settingsLayers) sourceFunc() func(string) string {
	if len(ls) == 0 {
		return nil
	}
	return ls.source
}

// source names the -f file (and line) or --set flag that set the value at
// path: the last one that did, since later sources win. "" if none did.
func (ls settingsLayers) source(path string) string {
	p := splitPath(path)
	for i := len(ls) - 1; i >= 0 && len(p) > 0; i-- {
		if !sets(ls[i].set, p) {
			continue
		}
		if line := values.LineOf(ls[i].data, p); line > 0 {
			return ls[i].from + ": line " + strconv.Itoa(line)
		}
		return ls[i].from
	}
	return ""
}

func splitPath(p string) []string {
	if p == "" {
		return nil
	}
	return strings.Split(p, ".")
}

// sets reports whether tree gives a value at path, or a non-map value at a
// part of it (which is then what is wrong).
func sets(tree any, path []string) bool {
	for _, p := range path {
		switch x := tree.(type) {
		case map[string]any:
			v, ok := x[p]
			if !ok {
				return false
			}
			tree = v
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) || x[i] == nil {
				return false
			}
			tree = x[i]
		default:
			return true
		}
	}
	return true
}

// readYAMLMap reads a YAML file that must hold a map; errors carry the
// file's line as the YAML parser reports it.
func readYAMLMap(path string) ([]byte, map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, errors.New(yamlMessage(err))
	}
	switch m := doc.(type) {
	case nil:
		return data, map[string]any{}, nil
	case map[string]any:
		return data, m, nil
	default:
		return nil, nil, fmt.Errorf("line 1: the file must hold a map of settings (key: value), not %s", kindOf(m))
	}
}

// yamlMessage drops sigs.k8s.io/yaml's "error converting YAML to JSON: yaml:"
// so the parser's "line N: ..." leads.
func yamlMessage(err error) string {
	msg := err.Error()
	for _, p := range []string{"error converting YAML to JSON: ", "yaml: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// mergeYAMLFiles merges the YAML maps of files, in order, over base; what
// names the kind of file in errors.
func mergeYAMLFiles(base map[string]any, files []string, what string) (map[string]any, error) {
	out := values.Merge(base)
	for _, f := range files {
		_, layer, err := readYAMLMap(f)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", what, f, err)
		}
		out = values.Merge(out, layer)
	}
	return out, nil
}
