package hook

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzMarshalContexts: whatever object and filter text a watch hands over,
// the binding context file is either refused (the text is not JSON) or is a
// JSON array a hook decodes back to the same binding name, object and filter
// result (config v1); v0 output, which names objects without carrying them,
// is still a JSON array with the binding name. Objects reach hooks byte-for-byte from the
// API server, so the marshaller must never change what they mean.
func FuzzMarshalContexts(f *testing.F) {
	f.Add("pods", []byte(podA), []byte(`{"name":"a"}`), true, uint8(0))
	f.Add("a<b&c", []byte(`{"data":{"html":"<a href=\"x\">&</a>"}}`), []byte(`"<b>"`), true, uint8(1))
	f.Add("", []byte(`null`), []byte(``), false, uint8(2))
	f.Add("x", []byte(`{"n":1e400}`), []byte(`[1,2,{"k":"\u2028"}]`), true, uint8(3))
	f.Add("dup", []byte(`{"a":1,"a":2}`), []byte(` 7 `), false, uint8(0))
	f.Add("bad", []byte(`{"a":`), []byte(`{}`), true, uint8(0))
	f.Fuzz(func(t *testing.T, name string, object, filter []byte, filtered bool, kind uint8) {
		if !utf8.ValidString(name) {
			return // binding names come from a parsed (UTF-8) hook config
		}
		b := KubernetesBinding{Name: name}
		if filtered {
			b.Watch.JqFilter = "."
		}
		o := ObjectAndFilterResult{Object: object, FilterResult: filter, Filtered: filtered, ResourceID: "ns/Pod/x"}
		var bc BindingContext
		switch kind % 3 {
		case 0:
			bc = b.EventContext(WatchEventModified, &o)
		case 1:
			bc = b.SynchronizationContext("m")
			bc.Objects = []ObjectAndFilterResult{o}
		default:
			bc = ScheduleBinding{Name: name, IncludeSnapshotsFrom: []string{"snap"}}.Context()
			bc.Snapshots = map[string][]ObjectAndFilterResult{"snap": {o}}
		}
		validInput := json.Valid(object) && (len(filter) == 0 || json.Valid(filter))
		for _, version := range []string{ConfigV1, ConfigV0} {
			out, err := MarshalContexts(version, []BindingContext{bc})
			if version == ConfigV0 && err != nil {
				continue // v0 reads only a few fields of the object; refusing bad text is fine
			}
			if !validInput && version == ConfigV1 {
				if err == nil {
					t.Fatalf("%s: invalid object %q / filter %q accepted: %s", version, object, filter, out)
				}
				continue
			}
			if err != nil && validInput {
				t.Fatalf("%s: valid input refused: %v", version, err)
			}
			var list []map[string]json.RawMessage
			if err := json.Unmarshal(out, &list); err != nil || len(list) != 1 {
				t.Fatalf("%s: output is not a one-element JSON array (%v): %s", version, err, out)
			}
			var gotName string
			if err := json.Unmarshal(list[0]["binding"], &gotName); err != nil || gotName != name {
				t.Fatalf("%s: binding %s, want %q", version, list[0]["binding"], name)
			}
			if version == ConfigV0 {
				continue // v0 names the object (resourceName, ...) but does not carry it
			}
			gotObj := objectOf(t, list[0], kind%3)
			if gotObj == nil {
				t.Fatalf("v1: no object in %s", out)
			}
			sameJSON(t, "object", gotObj["object"], object)
			switch {
			case len(filter) > 0:
				sameJSON(t, "filterResult", gotObj["filterResult"], filter)
			case filtered:
				sameJSON(t, "filterResult", gotObj["filterResult"], []byte("null"))
			default:
				if _, ok := gotObj["filterResult"]; ok && kind%3 != 0 {
					t.Fatalf("v1: filterResult written for a binding without jqFilter: %s", out)
				}
			}
		}
	})
}

// objectOf finds the one object a context of the given kind carries.
func objectOf(t *testing.T, ctx map[string]json.RawMessage, kind uint8) map[string]json.RawMessage {
	t.Helper()
	switch kind {
	case 0:
		return ctx
	case 1:
		var objs []map[string]json.RawMessage
		if err := json.Unmarshal(ctx["objects"], &objs); err != nil || len(objs) != 1 {
			t.Fatalf("objects: %v (%s)", err, ctx["objects"])
		}
		return objs[0]
	default:
		var snaps map[string][]map[string]json.RawMessage
		if err := json.Unmarshal(ctx["snapshots"], &snaps); err != nil || len(snaps["snap"]) != 1 {
			t.Fatalf("snapshots: %v (%s)", err, ctx["snapshots"])
		}
		return snaps["snap"][0]
	}
}

// sameJSON compares two JSON texts by meaning (numbers kept as written).
func sameJSON(t *testing.T, what string, got json.RawMessage, want []byte) {
	t.Helper()
	decode := func(b []byte) any {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%s: %v in %q", what, err, b)
		}
		return v
	}
	if g, w := decode(got), decode(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s changed: got %s, want %s", what, got, want)
	}
}
