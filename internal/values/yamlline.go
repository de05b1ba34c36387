package values

import (
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// LineOf returns the 1-based line in the YAML document data where the field
// at path (map keys and list indexes) is written, or the line of the deepest
// part of path that exists; 0 when data does not parse or path is empty.
// Errors found on parsed maps use it to point back into the file.
func LineOf(data []byte, path []string) int {
	var doc yaml.Node
	if len(path) == 0 || yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	node, line := doc.Content[0], 0
	for _, p := range path {
		for node.Kind == yaml.AliasNode && node.Alias != nil {
			node = node.Alias
		}
		next := (*yaml.Node)(nil)
		switch node.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(node.Content); i += 2 {
				if node.Content[i].Value == p {
					line, next = node.Content[i].Line, node.Content[i+1]
					break
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(p); err == nil && i >= 0 && i < len(node.Content) {
				next = node.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		node = next
	}
	return line
}
