package hook

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// MarshalContexts renders a binding context list as the JSON array a hook
// reads from BINDING_CONTEXT_PATH, in the format of config version
// (ConfigV1 or ConfigV0). Keys are sorted, as shell-operator writes them.
func MarshalContexts(version string, contexts []BindingContext) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteContexts(&buf, version, contexts); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteContexts streams the binding context list to w (see MarshalContexts),
// ending with a newline. Objects and filter results are copied as they are,
// never decoded.
func WriteContexts(w io.Writer, version string, contexts []BindingContext) error {
	bw := bufio.NewWriter(w)
	bw.WriteByte('[')
	for i, bc := range contexts {
		if i > 0 {
			bw.WriteByte(',')
		}
		var fields []field
		var err error
		switch version {
		case ConfigV1:
			fields, err = bc.fieldsV1()
		case ConfigV0:
			fields, err = bc.fieldsV0()
		default:
			return fmt.Errorf("binding context: unsupported config version %q", version)
		}
		if err != nil {
			return fmt.Errorf("binding context %d (binding %q): %w", i, bc.Binding, err)
		}
		writeObject(bw, fields)
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// field is one key of a JSON object with its already-encoded value.
type field struct {
	key   string
	write func(*bufio.Writer)
}

func rawField(key string, raw []byte) field {
	return field{key, func(w *bufio.Writer) { w.Write(raw) }}
}

func stringField(key, value string) field {
	b, _ := json.Marshal(value)
	return rawField(key, b)
}

func writeObject(w *bufio.Writer, fields []field) {
	sort.Slice(fields, func(i, j int) bool { return fields[i].key < fields[j].key })
	w.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			w.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		w.Write(k)
		w.WriteByte(':')
		f.write(w)
	}
	w.WriteByte('}')
}

var jsonNull = []byte("null")

// objectFields are the keys an ObjectAndFilterResult contributes.
func (o ObjectAndFilterResult) fields() ([]field, error) {
	var out []field
	if o.Object != nil {
		if !json.Valid(o.Object) {
			return nil, fmt.Errorf("object %s is not valid JSON", o.ResourceID)
		}
		out = append(out, rawField("object", o.Object))
	}
	switch {
	case len(o.FilterResult) > 0:
		if !json.Valid(o.FilterResult) {
			return nil, fmt.Errorf("filterResult of %s is not valid JSON", o.ResourceID)
		}
		out = append(out, rawField("filterResult", o.FilterResult))
	case o.Filtered:
		out = append(out, rawField("filterResult", jsonNull))
	}
	return out, nil
}

func objectList(key string, list []ObjectAndFilterResult) (field, error) {
	items := make([][]field, len(list))
	for i, o := range list {
		f, err := o.fields()
		if err != nil {
			return field{}, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		items[i] = f
	}
	return field{key, func(w *bufio.Writer) {
		w.WriteByte('[')
		for i, f := range items {
			if i > 0 {
				w.WriteByte(',')
			}
			writeObject(w, f)
		}
		w.WriteByte(']')
	}}, nil
}

func (bc BindingContext) snapshotsField() (field, error) {
	names := map[string]bool{}
	for _, n := range bc.IncludeSnapshots {
		names[n] = true
	}
	for n := range bc.Snapshots {
		names[n] = true
	}
	var entries []field
	for n := range names {
		f, err := objectList(n, bc.Snapshots[n])
		if err != nil {
			return field{}, fmt.Errorf("snapshots.%w", err)
		}
		entries = append(entries, f)
	}
	return field{"snapshots", func(w *bufio.Writer) { writeObject(w, entries) }}, nil
}

// fieldsV1 applies shell-operator's v1 rules for which keys a context has.
func (bc BindingContext) fieldsV1() ([]field, error) {
	out := []field{stringField("binding", bc.Binding)}
	if bc.BindingType == BindingOnStartup {
		return out, nil
	}
	if len(bc.IncludeSnapshots) > 0 || bc.IncludeAllSnapshots {
		f, err := bc.snapshotsField()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	// A grouped context is always "Group", even for a Synchronization.
	if bc.Group != "" {
		return append(out, stringField("type", string(TypeGroup)), stringField("groupName", bc.Group)), nil
	}
	if bc.BindingType == BindingSchedule {
		return append(out, stringField("type", string(TypeSchedule))), nil
	}
	if bc.BindingType != BindingKubernetes || bc.Type == "" {
		return out, nil
	}
	out = append(out, stringField("type", string(bc.Type)))
	if bc.WatchEvent != "" {
		out = append(out, stringField("watchEvent", string(bc.WatchEvent)))
	}
	switch bc.Type {
	case TypeSynchronization:
		f, err := objectList("objects", bc.Objects)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	case TypeEvent:
		if len(bc.Objects) == 0 {
			out = append(out, rawField("object", jsonNull))
			if bc.HasJqFilter {
				out = append(out, stringField("filterResult", ""))
			}
			break
		}
		f, err := bc.Objects[0].fields()
		if err != nil {
			return nil, err
		}
		out = append(out, f...)
	}
	return out, nil
}

// v0Events maps watch events to the legacy resourceEvent values.
var v0EventNames = map[WatchEvent]string{WatchEventAdded: "add", WatchEventModified: "update", WatchEventDeleted: "delete"}

// fieldsV0 renders the legacy format: binding, plus resourceEvent and the
// object's namespace, kind and name for kubernetes events.
func (bc BindingContext) fieldsV0() ([]field, error) {
	out := []field{stringField("binding", bc.Binding)}
	if bc.BindingType != BindingKubernetes {
		return out, nil
	}
	out = append(out, stringField("resourceEvent", v0EventNames[bc.WatchEvent]))
	if len(bc.Objects) > 0 && bc.Objects[0].Object != nil {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(bc.Objects[0].Object, &meta); err != nil {
			return nil, fmt.Errorf("reading object metadata: %w", err)
		}
		out = append(out,
			stringField("resourceNamespace", meta.Metadata.Namespace),
			stringField("resourceKind", meta.Kind),
			stringField("resourceName", meta.Metadata.Name))
	}
	return out, nil
}
