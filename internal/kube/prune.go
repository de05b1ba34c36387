package kube

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// pruner converts a typed object to the map a jqFilter reads, visiting only
// the fields the filter can read (see readTree). On a typical filter that is
// a few fields of a large object: the reflective
// runtime.DefaultUnstructuredConverter would visit every field and size
// every map by its struct's field count. Read fields of plain kinds
// (strings, numbers, booleans, string maps and lists) are converted here the
// way that converter does, with integers as int the way jqInput leaves them;
// every other value read whole is handed to it (and then to jqInput), in
// a one-field struct with the field's own JSON tag, so omitempty, omitzero
// and custom encoders (Time, Quantity, IntOrString) stay its own. Plans are
// built once per Go type.
type pruner struct {
	reads *readTree
	plans sync.Map // reflect.Type -> *structPlan (nil: convert whole)
}

func newPruner(reads *readTree) *pruner {
	if reads == nil {
		return nil
	}
	return &pruner{reads: reads}
}

// toMap converts obj, a pointer to a struct; ok is false when the pruner
// cannot (nil pruner, another shape, a type it does not reduce) and the
// caller converts the whole object.
func (p *pruner) toMap(obj any) (m map[string]any, ok bool, err error) {
	if p == nil || obj == nil {
		return nil, false, nil
	}
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, false, nil
	}
	plan, loaded := p.plans.Load(v.Type())
	if !loaded {
		plan, _ = p.plans.LoadOrStore(v.Type(), structPlanFor(v.Type().Elem(), p.reads))
	}
	sp := plan.(*structPlan)
	if sp == nil {
		return nil, false, nil
	}
	m, err = sp.convert(v.Elem())
	return m, true, err
}

// setTypeMeta sets apiVersion and kind on a pruned object, where the
// filter reads them.
func (p *pruner) setTypeMeta(u *unstructured.Unstructured, gvk schema.GroupVersionKind) {
	if p.reads.children["apiVersion"] != nil {
		u.SetAPIVersion(gvk.GroupVersion().String())
	}
	if p.reads.children["kind"] != nil {
		u.SetKind(gvk.Kind)
	}
}

// structPlan converts the read fields of one struct type.
type structPlan struct {
	fields []fieldPlan
}

// fieldPlan converts one field: by a nested plan (a struct, pointer or
// slice the filter reads into), or whole by its leaf kind.
type fieldPlan struct {
	index     []int // in the struct, through inline structs
	name      string
	omitempty bool
	leaf      leafKind
	nested    *structPlan  // leafNested: the struct (or element struct) plan
	wrapper   reflect.Type // leafDelegate: struct{F T `json:"<tag>"`}
}

type leafKind int

const (
	leafDelegate leafKind = iota // runtime.DefaultUnstructuredConverter, in a wrapper
	leafString
	leafBool
	leafInt
	leafFloat
	leafStringMap   // map[~string]~string
	leafStringSlice // []~string
	leafNested      // struct, *struct or []struct/[]*struct read in part
)

func (sp *structPlan) convert(v reflect.Value) (map[string]any, error) {
	m := make(map[string]any, len(sp.fields))
	for i := range sp.fields {
		f := &sp.fields[i]
		fv := v.FieldByIndex(f.index)
		if f.omitempty && f.leaf != leafDelegate && emptyValue(fv) {
			continue
		}
		switch f.leaf {
		case leafString:
			m[f.name] = fv.String()
		case leafBool:
			m[f.name] = fv.Bool()
		case leafInt:
			m[f.name] = int(fv.Int()) // as jqInput leaves it
		case leafFloat:
			m[f.name] = fv.Float()
		case leafStringMap:
			if fv.IsNil() {
				m[f.name] = nil
				continue
			}
			m[f.name] = stringMap(fv)
		case leafStringSlice:
			if fv.IsNil() {
				m[f.name] = nil
				continue
			}
			m[f.name] = stringSlice(fv)
		case leafNested:
			out, err := f.nested.convertAny(fv)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			m[f.name] = out
		default:
			w := reflect.New(f.wrapper)
			w.Elem().Field(0).Set(fv)
			out, err := runtime.DefaultUnstructuredConverter.ToUnstructured(w.Interface())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			if val, ok := out[f.name]; ok {
				m[f.name] = jqInput(val)
			}
		}
	}
	return m, nil
}

// stringMap converts a non-nil map of string kinds; the common
// map[string]string is read without reflection, which copies every key and
// value it hands out.
func stringMap(v reflect.Value) map[string]any {
	out := make(map[string]any, v.Len())
	if plain, ok := v.Interface().(map[string]string); ok {
		for k, e := range plain {
			out[k] = e
		}
		return out
	}
	for it := v.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().String()
	}
	return out
}

// stringSlice converts a non-nil slice of a string kind.
func stringSlice(v reflect.Value) []any {
	out := make([]any, v.Len())
	if plain, ok := v.Interface().([]string); ok {
		for i, e := range plain {
			out[i] = e
		}
		return out
	}
	for i := range out {
		out[i] = v.Index(i).String()
	}
	return out
}

// convertAny converts a struct, a pointer to one (nil is nil) or a slice of
// either (nil is nil) with sp.
func (sp *structPlan) convertAny(v reflect.Value) (any, error) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil, nil
		}
		return sp.convert(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		out := make([]any, v.Len())
		for i := range out {
			e, err := sp.convertAny(v.Index(i))
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = e
		}
		return out, nil
	default:
		return sp.convert(v)
	}
}

// emptyValue is the converter's (and encoding/json's) omitempty test.
func emptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Map, reflect.Slice:
		return v.IsNil() || v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return false
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	// unstructuredConverter is how runtime.DefaultUnstructuredConverter
	// asks a type for its own encoding (Quantity, IntOrString, Time).
	unstructuredConverter = reflect.TypeFor[interface{ ToUnstructured() any }]()
)

// opaque reports whether t encodes itself: its JSON is not its fields.
func opaque(t reflect.Type) bool {
	for _, c := range []reflect.Type{t, reflect.PointerTo(t)} {
		if c.Implements(jsonMarshaler) || c.Implements(textMarshaler) || c.Implements(unstructuredConverter) {
			return true
		}
	}
	return false
}

// structPlanFor plans struct type t read as r; nil when the whole value is
// read or t cannot be planned exactly.
func structPlanFor(t reflect.Type, r *readTree) *structPlan {
	if r == nil || r.all || r.keys || r.each != nil || opaque(t) {
		return nil // `.[]`, length, keys on an object read every field
	}
	sp := &structPlan{}
	if !sp.collect(t, nil, r) {
		return nil
	}
	return sp
}

// collect adds the fields of t (at index path at) that r reads, flattening
// inline structs as the converter does. It reports false when t cannot be
// converted here exactly.
func (sp *structPlan) collect(t reflect.Type, at []int, r *readTree) bool {
	for i := range t.NumField() {
		f := t.Field(i)
		name, inline, ok := jsonField(f)
		if !ok {
			if f.Anonymous && f.Tag.Get("json") != "-" {
				return false // an unexported embedded struct's fields are encoded too
			}
			continue
		}
		path := append(append([]int(nil), at...), i)
		if inline {
			if f.Type.Kind() == reflect.Pointer || opaque(f.Type) || !sp.collect(f.Type, path, r) {
				return false // a nil embedded pointer adds no fields
			}
			continue
		}
		c := r.children[name]
		if c == nil {
			continue
		}
		tag := f.Tag.Get("json")
		_, opts, _ := strings.Cut(tag, ",")
		fp := fieldPlan{index: path, name: name, omitempty: hasOpt(opts, "omitempty")}
		fp.leaf, fp.nested = leafFor(f.Type, c)
		if hasOpt(opts, "omitzero") {
			fp.leaf, fp.nested = leafDelegate, nil // omitzero may ask the type's IsZero
		}
		if fp.leaf == leafDelegate {
			fp.wrapper = reflect.StructOf([]reflect.StructField{{Name: "F", Type: f.Type, Tag: reflect.StructTag(`json:"` + tag + `"`)}})
		}
		sp.fields = append(sp.fields, fp)
	}
	return true
}

// leafFor picks how a field of type t read as r is converted.
func leafFor(t reflect.Type, r *readTree) (leafKind, *structPlan) {
	if opaque(t) {
		return leafDelegate, nil
	}
	switch t.Kind() {
	case reflect.String:
		return leafString, nil
	case reflect.Bool:
		return leafBool, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return leafInt, nil
	case reflect.Float32, reflect.Float64:
		return leafFloat, nil
	case reflect.Map:
		if t.Key().Kind() == reflect.String && plainString(t.Key()) && plainString(t.Elem()) {
			return leafStringMap, nil
		}
	case reflect.Slice:
		if plainString(t.Elem()) {
			return leafStringSlice, nil
		}
		if sp := elemStructPlan(t.Elem(), r.each); sp != nil && !r.all {
			return leafNested, sp
		}
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Struct {
			if sp := structPlanFor(t.Elem(), r); sp != nil {
				return leafNested, sp
			}
		}
	case reflect.Struct:
		if sp := structPlanFor(t, r); sp != nil {
			return leafNested, sp
		}
	}
	return leafDelegate, nil
}

// elemStructPlan plans a slice element that is a struct or a pointer to one.
func elemStructPlan(t reflect.Type, r *readTree) *structPlan {
	if t.Kind() == reflect.Pointer && !opaque(t) {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return structPlanFor(t, r)
}

// plainString is a string kind without an encoding of its own.
func plainString(t reflect.Type) bool {
	return t.Kind() == reflect.String && !opaque(t)
}

func hasOpt(opts, opt string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}

// jsonField is f's key in the map runtime.DefaultUnstructuredConverter
// builds (encoding/json's naming); inline is an embedded struct whose fields
// sit at this level; ok is false for fields it skips or that cannot be
// read.
func jsonField(f reflect.StructField) (name string, inline, ok bool) {
	tag := f.Tag.Get("json")
	if tag == "-" || !f.IsExported() {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name != "" {
		return name, false, true
	}
	t := f.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && (f.Anonymous || opts == "embed"):
		return "", true, true
	case f.Anonymous:
		return "", false, false
	}
	return f.Name, false, true
}
