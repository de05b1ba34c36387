package kube

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// wireFilter drops, from a watched object's protobuf bytes, the fields its
// binding's jqFilter never reads, before client-go's generated code decodes
// them. Decoding is most of a watch's client CPU, and most of an object
// (managedFields, status, annotations such as last-applied-configuration)
// is often never read: dropping it costs one scan of the bytes. The fields
// kept are decoded by the generated code as before, so the Go object has
// exactly the values a full decode gives for every field the filter reads
// (the pruner converts only those). The object's name, namespace and
// resourceVersion are always kept (the store and the reflector read them);
// an object without a name (a watch bookmark) is left whole.
type wireFilter struct {
	kind string // objects of other kinds (lists) are left whole
	plan *wirePlan
	meta protowire.Number // the object's metadata field
	name protowire.Number // the name field in metadata
}

// wirePlan says what to do with each field number of one message type
// (generated Kubernetes types number their fields densely from 1, so
// slices indexed by number serve).
type wirePlan struct {
	keep   []bool      // copied as is
	nested []*wirePlan // filtered recursively (each record of a repeated field)
}

func (p *wirePlan) set(num protowire.Number, sub *wirePlan) {
	for int(num) >= len(p.keep) {
		p.keep = append(p.keep, false)
		p.nested = append(p.nested, nil)
	}
	p.keep[num] = sub == nil
	p.nested[num] = sub
}

// action is what p does with field num: keep it, filter it with sub, or
// (neither) drop it.
func (p *wirePlan) action(num protowire.Number) (keep bool, sub *wirePlan) {
	if int(num) >= len(p.keep) {
		return false, nil
	}
	return p.keep[num], p.nested[num]
}

// newWireFilter plans the filter for kind read as r; nil when nothing can be
// dropped or the kind's Go type is not known.
func newWireFilter(gvk schema.GroupVersionKind, obj runtime.Object, r *readTree) *wireFilter {
	if r == nil || obj == nil {
		return nil
	}
	t := reflect.TypeOf(obj)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	metaField, meta, ok := protoField(t.Elem(), "metadata")
	if !ok || metaField.Type.Kind() != reflect.Struct {
		return nil
	}
	_, name, ok := protoField(metaField.Type, "name")
	if !ok {
		return nil
	}
	// The store reads each object's key, the reflector its resourceVersion.
	plan := wirePlanFor(t.Elem(), r.with("metadata", "name", "namespace", "resourceVersion"))
	if plan == nil {
		return nil
	}
	return &wireFilter{kind: gvk.Kind, plan: plan, meta: meta, name: name}
}

// protoField is struct t's field with JSON name jsonName and its protobuf
// field number.
func protoField(t reflect.Type, jsonName string) (reflect.StructField, protowire.Number, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if name, _, ok := jsonField(f); ok && name == jsonName {
			n, ok := protoNumber(f)
			return f, n, ok
		}
	}
	return reflect.StructField{}, 0, false
}

// protoNumber reads the field number from a generated `protobuf:"bytes,1,..."` tag.
func protoNumber(f reflect.StructField) (protowire.Number, bool) {
	parts := strings.Split(f.Tag.Get("protobuf"), ",")
	if len(parts) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n <= 0 {
		return 0, false
	}
	return protowire.Number(n), true
}

// wirePlanFor plans struct type t read as r; nil when everything is read.
func wirePlanFor(t reflect.Type, r *readTree) *wirePlan {
	if t == nil || r == nil || r.all || r.keys || r.each != nil || opaque(t) {
		return nil
	}
	p := &wirePlan{}
	for i := range t.NumField() {
		f := t.Field(i)
		num, onWire := protoNumber(f)
		name, inline, ok := jsonField(f)
		if !onWire {
			continue // not encoded (TypeMeta lives in the envelope)
		}
		if !ok || inline {
			return nil // a field this plan cannot name: keep the whole message
		}
		c := r.children[name]
		if c == nil {
			continue
		}
		_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case hasOpt(opts, "omitzero"): // whether it is omitted depends on every field
			p.set(num, nil)
		case f.Type.Kind() == reflect.Map && c.keysOnly():
			p.set(num, mapKeysOnly)
		default:
			p.set(num, wirePlanFor(messageType(f.Type), messageTree(f.Type, c)))
		}
	}
	return p
}

// mapKeysOnly filters the entries of a protobuf map (messages of key = 1,
// value = 2) down to their keys: their values decode as zero values, which
// a filter that reads only the keys (length, keys, has) never sees.
var mapKeysOnly = &wirePlan{keep: []bool{false, true}, nested: []*wirePlan{nil, nil}}

// messageType and messageTree give the struct type and read tree of one
// record of a field: the field's own struct (or pointed-to struct), or a
// slice's element struct read through `.[]`. messageType is nil for a field
// that is not a message.
func messageType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		t = t.Elem()
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

func messageTree(t reflect.Type, r *readTree) *readTree {
	if t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 {
		if r.all {
			return r
		}
		return r.each
	}
	if t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		return nil // bytes and maps are kept whole
	}
	return r
}

// protoMagic starts every protobuf-encoded Kubernetes object.
var protoMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// filter returns data (an encoded object: magic, then a runtime.Unknown
// envelope) with the unread fields of the object dropped; data itself when
// it is another kind, a bookmark, or cannot be parsed.
func (w *wireFilter) filter(data []byte) []byte {
	if w == nil || !bytes.HasPrefix(data, protoMagic) {
		return data
	}
	env := data[len(protoMagic):]
	var raw []byte
	rawAt, rawEnd, kindOK := -1, 0, false
	for b, off := env, 0; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType {
			return data
		}
		v, m := protowire.ConsumeBytes(b[n:])
		if m < 0 {
			return data
		}
		switch num {
		case 1: // typeMeta
			kindOK = envelopeKind(v) == w.kind
		case 2: // raw
			raw, rawAt, rawEnd = v, off, off+n+m
		}
		b, off = b[n+m:], off+n+m
	}
	if !kindOK || rawAt < 0 || !w.named(raw) {
		return data
	}
	size, ok := w.plan.size(raw)
	if !ok || size > len(raw)*worthFiltering/100 {
		return data // decoding the few bytes dropped costs less than copying the rest
	}
	out := make([]byte, 0, len(data)-len(raw)+size)
	out = append(out, protoMagic...)
	out = append(out, env[:rawAt]...)
	out = protowire.AppendTag(out, 2, protowire.BytesType)
	out = protowire.AppendVarint(out, uint64(size))
	out = w.plan.write(raw, out)
	return append(out, env[rawEnd:]...)
}

// worthFiltering is the most of an object, in percent, the filter may keep
// for the copy to pay off.
const worthFiltering = 80

// envelopeKind reads the kind from a runtime.TypeMeta message.
func envelopeKind(b []byte) string {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return ""
		}
		if num == 2 && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b[n:])
			return string(v)
		}
		b = b[n+m:]
	}
	return ""
}

// named reports whether the object's metadata has a non-empty name.
func (w *wireFilter) named(obj []byte) bool {
	meta := field(obj, w.meta)
	return len(field(meta, w.name)) > 0
}

// field returns the bytes of the last record of field num (length-delimited).
func field(b []byte, num protowire.Number) []byte {
	var out []byte
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil
		}
		m := protowire.ConsumeFieldValue(n, typ, b[l:])
		if m < 0 {
			return nil
		}
		if n == num && typ == protowire.BytesType {
			out, _ = protowire.ConsumeBytes(b[l:])
		}
		b = b[l+m:]
	}
	return out
}

// size is the length of message b filtered by p; ok is false when b is
// malformed.
func (p *wirePlan) size(b []byte) (int, bool) {
	total := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return 0, false
		}
		switch keep, sub := p.action(num); {
		case sub != nil && typ == protowire.BytesType:
			v, _ := protowire.ConsumeBytes(b[n:])
			inner, ok := sub.size(v)
			if !ok {
				return 0, false
			}
			total += n + protowire.SizeBytes(inner)
		case sub != nil || keep:
			total += n + m
		}
		b = b[n+m:]
	}
	return total, true
}

// write appends to out the records of message b (checked by size) that p
// keeps.
func (p *wirePlan) write(b, out []byte) []byte {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		switch keep, sub := p.action(num); {
		case sub != nil && typ == protowire.BytesType:
			v, _ := protowire.ConsumeBytes(b[n:])
			inner, _ := sub.size(v)
			out = append(out, b[:n]...) // the tag
			out = protowire.AppendVarint(out, uint64(inner))
			out = sub.write(v, out)
		case sub != nil || keep:
			out = append(out, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return out
}
