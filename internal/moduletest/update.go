package moduletest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// writeExpect rewrites the expect section of the case file at path with
// actual. The rest of the file is kept byte for byte: only the lines of the
// top-level expect key are replaced (or a section is appended). Optional
// keys (values, bindingContext, manifests) are written only when the case
// had them.
func writeExpect(path string, c *Case, actual *Expect) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	section, err := expectYAML(c, actual)
	if err != nil {
		return fmt.Errorf("%s: encoding expect: %w", c.File, err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	root := c.doc.Content[0]
	start, end := -1, len(lines)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if start >= 0 {
			// The next key's head comment stays with it.
			end = k.Line - 1
			if k.HeadComment != "" {
				end -= strings.Count(k.HeadComment, "\n") + 1
			}
			break
		}
		if k.Value == "expect" {
			start = k.Line - 1
		}
	}
	var out bytes.Buffer
	if start < 0 {
		out.Write(data)
		if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
			out.WriteString("\n")
		}
		out.WriteString(section)
	} else {
		for _, l := range lines[:start] {
			out.WriteString(l)
		}
		out.WriteString(section)
		for _, l := range lines[min(end, len(lines)):] {
			out.WriteString(l)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".moduletest-*")
	if err != nil {
		return fmt.Errorf("updating %s: %w", path, err)
	}
	// After a successful rename the temp name is gone and Remove fails;
	// before it, Remove cleans up.
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(out.Bytes()); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("updating %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("updating %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), fi.Mode().Perm()); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("updating %s: %w", path, err)
	}
	return nil
}

// expectYAML renders "expect:" and its keys in a fixed order.
func expectYAML(c *Case, actual *Expect) (string, error) {
	section := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v any) error {
		p, err := plain(v)
		if err != nil {
			return err
		}
		var n yaml.Node
		if err := n.Encode(p); err != nil {
			return err
		}
		section.Content = append(section.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &n)
		return nil
	}
	if actual.Error != "" {
		if err := add("error", firstLine(actual.Error)); err != nil {
			return "", err
		}
	}
	for _, k := range expectKeys {
		v := k.get(actual)
		if k.optional && !c.Expect.has[k.key] {
			continue
		}
		if !k.optional && empty(v) {
			continue
		}
		if actual.Error != "" && k.key != "bindingContext" {
			continue
		}
		if err := add(k.key, v); err != nil {
			return "", err
		}
	}
	if len(section.Content) == 0 {
		return "expect: {}\n", nil
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: "expect"}, section}}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// firstLine keeps an error's first line: later lines (stderr, paths) vary.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
