package hook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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

// WriteContexts writes the binding context list to w (see MarshalContexts),
// ending with a newline. Objects and filter results are checked to be valid
// JSON and copied compacted, never decoded.
func WriteContexts(w io.Writer, version string, contexts []BindingContext) error {
	list := make([]jsonObject, len(contexts))
	for i, bc := range contexts {
		var obj jsonObject
		var err error
		switch version {
		case ConfigV1:
			obj, err = bc.fieldsV1()
		case ConfigV0:
			obj, err = bc.fieldsV0()
		default:
			return fmt.Errorf("binding context: unsupported config version %q", version)
		}
		if err != nil {
			return fmt.Errorf("binding context %d (binding %q): %w", i, bc.Binding, err)
		}
		list[i] = obj
	}
	// encoding/json sorts map keys. Strings are escaped by jsonString, so
	// the encoder leaves the raw objects' text as it is.
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(list); err != nil {
		return fmt.Errorf("writing binding contexts: %w", err)
	}
	return nil
}

// jsonObject is one JSON object of the output: values are json.RawMessage
// (already encoded), jsonObject or []jsonObject.
type jsonObject map[string]any

var jsonNull = json.RawMessage("null")

// jsonString encodes s as json.Marshal does (HTML characters escaped).
func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s) // a string always encodes
	return b
}

// fields adds the keys an ObjectAndFilterResult contributes to out.
func (o ObjectAndFilterResult) fields(out jsonObject) error {
	if o.Object != nil {
		if !json.Valid(o.Object) {
			return fmt.Errorf("object %s is not valid JSON", o.ResourceID)
		}
		out["object"] = o.Object
	}
	switch {
	case len(o.FilterResult) > 0:
		if !json.Valid(o.FilterResult) {
			return fmt.Errorf("filterResult of %s is not valid JSON", o.ResourceID)
		}
		out["filterResult"] = o.FilterResult
	case o.Filtered:
		out["filterResult"] = jsonNull
	}
	return nil
}

func objectList(key string, list []ObjectAndFilterResult) ([]jsonObject, error) {
	items := make([]jsonObject, len(list))
	for i, o := range list {
		items[i] = jsonObject{}
		if err := o.fields(items[i]); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
	}
	return items, nil
}

func (bc BindingContext) snapshots() (jsonObject, error) {
	out := jsonObject{}
	for _, n := range bc.IncludeSnapshots {
		out[n] = []jsonObject{}
	}
	for n, list := range bc.Snapshots {
		items, err := objectList(n, list)
		if err != nil {
			return nil, fmt.Errorf("snapshots.%w", err)
		}
		out[n] = items
	}
	return out, nil
}

// fieldsV1 applies shell-operator's v1 rules for which keys a context has.
func (bc BindingContext) fieldsV1() (jsonObject, error) {
	out := jsonObject{"binding": jsonString(bc.Binding)}
	if bc.BindingType == BindingOnStartup {
		return out, nil
	}
	if len(bc.IncludeSnapshots) > 0 || bc.IncludeAllSnapshots {
		snaps, err := bc.snapshots()
		if err != nil {
			return nil, err
		}
		out["snapshots"] = snaps
	}
	switch bc.BindingType {
	case BindingValidating, BindingMutating, BindingConversion:
		// Never grouped: a webhook run is one request.
		return out, bc.webhookFieldsV1(out)
	}
	// A grouped context is always "Group", even for a Synchronization.
	if bc.Group != "" {
		out["type"] = jsonString(string(TypeGroup))
		out["groupName"] = jsonString(bc.Group)
		return out, nil
	}
	if bc.BindingType == BindingSchedule {
		out["type"] = jsonString(string(TypeSchedule))
		return out, nil
	}
	if bc.BindingType != BindingKubernetes || bc.Type == "" {
		return out, nil
	}
	out["type"] = jsonString(string(bc.Type))
	if bc.WatchEvent != "" {
		out["watchEvent"] = jsonString(string(bc.WatchEvent))
	}
	switch bc.Type {
	case TypeSynchronization:
		items, err := objectList("objects", bc.Objects)
		if err != nil {
			return nil, err
		}
		out["objects"] = items
	case TypeEvent:
		if len(bc.Objects) == 0 {
			out["object"] = jsonNull
			if bc.HasJqFilter {
				out["filterResult"] = jsonString("")
			}
			break
		}
		if err := bc.Objects[0].fields(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// v0Events maps watch events to the legacy resourceEvent values.
var v0EventNames = map[WatchEvent]string{WatchEventAdded: "add", WatchEventModified: "update", WatchEventDeleted: "delete"}

// fieldsV0 renders the legacy format: binding, plus resourceEvent and the
// object's namespace, kind and name for kubernetes events.
func (bc BindingContext) fieldsV0() (jsonObject, error) {
	out := jsonObject{"binding": jsonString(bc.Binding)}
	if bc.BindingType != BindingKubernetes {
		return out, nil
	}
	out["resourceEvent"] = jsonString(v0EventNames[bc.WatchEvent])
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
		out["resourceNamespace"] = jsonString(meta.Metadata.Namespace)
		out["resourceKind"] = jsonString(meta.Kind)
		out["resourceName"] = jsonString(meta.Metadata.Name)
	}
	return out, nil
}
