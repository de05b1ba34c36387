package kube

import (
	"maps"
	"slices"
	"strings"

	"github.com/itchyny/gojq"
)

// readTree is the part of an object a jq program can read: the fields named
// below a node (children), every element or field of it with the same
// subtree (each, from `.[]`, `.[0]`, `map`), or the whole value (all).
//
// A Monitor converts a typed object (from the protobuf path) to the map jq
// reads; fields outside the tree are left out of that conversion, which on a
// typical filter is most of it (managedFields alone is about half of a small
// object). A node that is present is converted exactly, so whatever the
// program can observe of it (its type, null-ness, truthiness, scalar value)
// is unchanged; only fields no path of the program reaches differ.
type readTree struct {
	all      bool
	keys     bool // its keys or element count are read (length, keys, has)
	children map[string]*readTree
	each     *readTree
}

// keysOnly is a node of which only the keys (or the count) are read: of a
// map, the values can be left out.
func (t *readTree) keysOnly() bool {
	return t.keys && !t.all && len(t.children) == 0 && t.each == nil
}

func (t *readTree) child(name string) *readTree {
	if t.children == nil {
		t.children = map[string]*readTree{}
	}
	c := t.children[name]
	if c == nil {
		c = &readTree{}
		t.children[name] = c
	}
	return c
}

func (t *readTree) elem() *readTree {
	if t.each == nil {
		t.each = &readTree{}
	}
	return t.each
}

// with returns a copy of t that also reads the named fields of its field
// parent.
func (t *readTree) with(parent string, fields ...string) *readTree {
	c := t.clone()
	p := c.child(parent)
	if !p.all {
		for _, f := range fields {
			p.child(f).all = true
		}
	}
	return c
}

func (t *readTree) clone() *readTree {
	if t == nil {
		return nil
	}
	c := &readTree{all: t.all, keys: t.keys, each: t.each.clone()}
	if t.children != nil {
		c.children = make(map[string]*readTree, len(t.children))
		for k, v := range t.children {
			c.children[k] = v.clone()
		}
	}
	return c
}

// String renders the tree for tests and logs: `*` is the whole value,
// `#` its keys, `[]` every element.
func (t *readTree) String() string {
	var b strings.Builder
	t.writeTo(&b)
	return b.String()
}

func (t *readTree) writeTo(b *strings.Builder) {
	switch {
	case t.all:
		b.WriteByte('*')
		return
	case t.keysOnly():
		b.WriteByte('#')
		return
	case t.keys:
		b.WriteByte('#')
	}
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(t.children)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte(':')
		t.children[k].writeTo(b)
	}
	if t.each != nil {
		if len(t.children) > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("[]:")
		t.each.writeTo(b)
	}
	b.WriteByte('}')
}

// jqReads returns what q can read of its input, or nil when that cannot be
// told (or is everything): then the whole object is converted. The analysis
// follows the input through paths (`.a.b`, `.["a"]`, `.[]`, `.[0]`,
// variables bound with `as $x`, pipes, commas, `//`, `if`, `select`, `map`,
// object and array construction); any other use of a value, such as a
// builtin that reads `.` (length, keys, tojson, has, ...), a comparison or
// an interpolation, marks that whole value as read. Function definitions,
// imports, label/break and unknown variables give up.
func jqReads(q *gojq.Query) *readTree {
	root := &readTree{}
	a := jqAnalysis{}
	out := a.query(q, []*readTree{root}, nil)
	if a.unknown {
		return nil
	}
	use(out)
	if root.all || root.keys { // the keys of the whole object are all of its fields
		return nil
	}
	return root
}

// jqAnalysis walks a parsed jq program with abstract values: a non-nil
// *readTree is "the input at this node", nil is a value not taken from the
// input by a path (a literal, a computed value, or part of a value already
// marked as read whole).
type jqAnalysis struct {
	unknown bool
}

// scope binds variable names to abstract values; it is a linked list so a
// binding is visible only in the body it was made for.
type scope struct {
	name string
	vals []*readTree
	next *scope
}

func (s *scope) lookup(name string) ([]*readTree, bool) {
	for ; s != nil; s = s.next {
		if s.name == name {
			return s.vals, true
		}
	}
	return nil, false
}

// useKeys marks values whose keys (or element count) are read.
func useKeys(vals []*readTree) {
	for _, v := range vals {
		if v != nil {
			v.keys = true
		}
	}
}

// use marks values as read whole.
func use(vals []*readTree) {
	for _, v := range vals {
		if v != nil {
			v.all = true
		}
	}
}

func (a *jqAnalysis) query(q *gojq.Query, ctx []*readTree, env *scope) []*readTree {
	if q == nil {
		return ctx
	}
	if q.Meta != nil || len(q.Imports) > 0 || len(q.FuncDefs) > 0 {
		a.unknown = true
		return nil
	}
	if q.Term != nil {
		return a.term(q.Term, ctx, env)
	}
	switch q.Op {
	case gojq.OpPipe:
		left := a.query(q.Left, ctx, env)
		if len(q.Patterns) == 0 {
			return a.query(q.Right, left, env)
		}
		return a.query(q.Right, ctx, a.bind(q.Patterns, left, env))
	case gojq.OpComma:
		return append(a.query(q.Left, ctx, env), a.query(q.Right, ctx, env)...)
	case gojq.OpAlt:
		// `a // b` reads a's truthiness (exact for a present node) and
		// outputs a's or b's values.
		return append(a.query(q.Left, ctx, env), a.query(q.Right, ctx, env)...)
	case gojq.OpAnd, gojq.OpOr:
		a.query(q.Left, ctx, env)
		a.query(q.Right, ctx, env)
		return []*readTree{nil}
	case gojq.OpAdd, gojq.OpSub, gojq.OpMul, gojq.OpDiv, gojq.OpMod,
		gojq.OpEq, gojq.OpNe, gojq.OpGt, gojq.OpLt, gojq.OpGe, gojq.OpLe:
		use(a.query(q.Left, ctx, env))
		use(a.query(q.Right, ctx, env))
		return []*readTree{nil}
	default: // assignments and updates read and output the whole input
		use(ctx)
		use(a.query(q.Left, ctx, env))
		use(a.query(q.Right, ctx, env))
		return []*readTree{nil}
	}
}

// bind handles `SRC as PATTERNS | body`: a plain `$x` keeps following SRC's
// values; a destructuring pattern reads them whole.
func (a *jqAnalysis) bind(patterns []*gojq.Pattern, vals []*readTree, env *scope) *scope {
	if len(patterns) == 1 && patterns[0].Name != "" {
		return &scope{name: patterns[0].Name, vals: vals, next: env}
	}
	use(vals)
	for _, p := range patterns {
		env = a.bindNames(p, env)
	}
	return env
}

// bindNames binds a destructuring pattern's variables; its computed keys
// (`{(expr): $v}`, `{"\(expr)": $v}`) may read variables bound outside.
func (a *jqAnalysis) bindNames(p *gojq.Pattern, env *scope) *scope {
	if p == nil {
		return env
	}
	if p.Name != "" {
		env = &scope{name: p.Name, vals: []*readTree{nil}, next: env}
	}
	for _, e := range p.Array {
		env = a.bindNames(e, env)
	}
	for _, o := range p.Object {
		if strings.HasPrefix(o.Key, "$") {
			env = &scope{name: o.Key, vals: []*readTree{nil}, next: env}
		}
		if o.KeyQuery != nil {
			use(a.query(o.KeyQuery, []*readTree{nil}, env))
		}
		if o.KeyString != nil {
			a.str(o.KeyString, []*readTree{nil}, env)
		}
		env = a.bindNames(o.Val, env)
	}
	return env
}

func (a *jqAnalysis) term(t *gojq.Term, ctx []*readTree, env *scope) []*readTree {
	var vals []*readTree
	switch t.Type {
	case gojq.TermTypeIdentity:
		vals = ctx
	case gojq.TermTypeIndex:
		vals = a.index(t.Index, ctx, ctx, env)
	case gojq.TermTypeQuery:
		vals = a.query(t.Query, ctx, env)
	case gojq.TermTypeFunc:
		vals = a.call(t.Func, ctx, env)
	case gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse, gojq.TermTypeNumber:
		vals = []*readTree{nil}
	case gojq.TermTypeString:
		a.str(t.Str, ctx, env)
		vals = []*readTree{nil}
	case gojq.TermTypeFormat:
		if t.Str == nil {
			use(ctx) // `@base64` formats `.`
		} else {
			a.str(t.Str, ctx, env)
		}
		vals = []*readTree{nil}
	case gojq.TermTypeObject:
		a.object(t.Object, ctx, env)
		vals = []*readTree{nil}
	case gojq.TermTypeArray:
		if t.Array.Query != nil {
			use(a.query(t.Array.Query, ctx, env))
		}
		vals = []*readTree{nil}
	case gojq.TermTypeUnary:
		use(a.term(t.Unary.Term, ctx, env))
		vals = []*readTree{nil}
	case gojq.TermTypeIf:
		vals = a.ifThen(t.If, ctx, env)
	default:
		// `..`, try/catch (an error message shows the value it failed
		// on), reduce, foreach: read the input whole.
		use(ctx)
		a.other(t, ctx, env)
		vals = []*readTree{nil}
	}
	for _, s := range t.SuffixList {
		switch {
		case s.Iter:
			vals = each(vals)
		case s.Index != nil:
			vals = a.index(s.Index, vals, ctx, env)
		} // `?` alone changes nothing read
	}
	return vals
}

// index follows `.name`, `.["name"]`, `.[0]` and `.[]`-like access on vals;
// a slice or a computed key reads the value whole. A computed key is
// evaluated on ctx, the input of the whole term (`.a[.b]` reads `.b`).
func (a *jqAnalysis) index(ix *gojq.Index, vals, ctx []*readTree, env *scope) []*readTree {
	switch key := indexKey(ix); k := key.(type) {
	case string:
		out := make([]*readTree, len(vals))
		for i, v := range vals {
			if v != nil && !v.all {
				out[i] = v.child(k)
			}
		}
		return out
	case int:
		return each(vals)
	default:
		use(vals)
		if ix.Str != nil {
			a.str(ix.Str, ctx, env)
		}
		if ix.Start != nil {
			use(a.query(ix.Start, ctx, env))
		}
		if ix.End != nil {
			use(a.query(ix.End, ctx, env))
		}
		return []*readTree{nil}
	}
}

// indexKey is the literal key of an index: a string, an int for a number,
// or nil when it is computed or a slice.
func indexKey(ix *gojq.Index) any {
	switch {
	case ix.Name != "":
		return ix.Name
	case ix.Str != nil && ix.Str.Queries == nil:
		return ix.Str.Str
	case ix.IsSlice || ix.Start == nil || ix.End != nil:
		return nil
	}
	t := ix.Start.Term
	if ix.Start.Right != nil || t == nil || len(t.SuffixList) > 0 {
		return nil
	}
	switch t.Type {
	case gojq.TermTypeString:
		if t.Str.Queries == nil {
			return t.Str.Str
		}
	case gojq.TermTypeNumber:
		return 0
	}
	return nil
}

func each(vals []*readTree) []*readTree {
	out := make([]*readTree, len(vals))
	for i, v := range vals {
		if v != nil && !v.all {
			out[i] = v.elem()
		}
	}
	return out
}

// call handles variables and builtins: select, empty and map follow the
// input, length, keys and has read its keys; every other builtin reads `.`
// whole.
func (a *jqAnalysis) call(f *gojq.Func, ctx []*readTree, env *scope) []*readTree {
	if strings.HasPrefix(f.Name, "$") {
		if f.Name == "$ENV" || f.Name == "$__loc__" {
			return []*readTree{nil}
		}
		vals, ok := env.lookup(f.Name)
		if !ok {
			a.unknown = true
		}
		return vals
	}
	switch {
	case f.Name == "empty" && len(f.Args) == 0:
		return nil
	case f.Name == "select" && len(f.Args) == 1:
		a.query(f.Args[0], ctx, env) // truthiness only
		return ctx
	case (f.Name == "length" || f.Name == "keys") && len(f.Args) == 0:
		useKeys(ctx)
		return []*readTree{nil}
	case f.Name == "has" && len(f.Args) == 1:
		useKeys(ctx)
		use(a.query(f.Args[0], ctx, env))
		return []*readTree{nil}
	case f.Name == "map" && len(f.Args) == 1:
		use(a.query(f.Args[0], each(ctx), env))
		return []*readTree{nil}
	}
	if !ignoresInput(f) {
		use(ctx)
	}
	for _, arg := range f.Args {
		use(a.query(arg, ctx, env))
	}
	return []*readTree{nil}
}

// ignoresInput lists builtins that never read `.` themselves (their
// arguments are analyzed on their own).
func ignoresInput(f *gojq.Func) bool {
	switch f.Name {
	case "now", "env", "builtins", "input_filename", "infinite", "nan", "range", "halt":
		return true
	case "error":
		return len(f.Args) == 1
	}
	return false
}

func (a *jqAnalysis) str(s *gojq.String, ctx []*readTree, env *scope) {
	for _, q := range s.Queries {
		use(a.query(q, ctx, env))
	}
}

func (a *jqAnalysis) object(o *gojq.Object, ctx []*readTree, env *scope) {
	for _, kv := range o.KeyVals {
		switch {
		case kv.KeyQuery != nil:
			use(a.query(kv.KeyQuery, ctx, env))
		case kv.KeyString != nil:
			a.str(kv.KeyString, ctx, env)
		}
		if kv.Val != nil {
			use(a.query(kv.Val, ctx, env))
			continue
		}
		// Shorthands: `{name}` is `{name: .name}`, `{$x}` is
		// `{x: $x}`, `{"a"}` is `{a: .a}`.
		switch {
		case strings.HasPrefix(kv.Key, "$"):
			use(a.call(&gojq.Func{Name: kv.Key}, ctx, env))
		case kv.Key != "":
			use(a.index(&gojq.Index{Name: kv.Key}, ctx, ctx, env))
		case kv.KeyString != nil && kv.KeyString.Queries == nil:
			use(a.index(&gojq.Index{Str: kv.KeyString}, ctx, ctx, env))
		default:
			use(ctx)
		}
	}
}

func (a *jqAnalysis) ifThen(i *gojq.If, ctx []*readTree, env *scope) []*readTree {
	a.query(i.Cond, ctx, env)
	out := a.query(i.Then, ctx, env)
	for _, e := range i.Elif {
		a.query(e.Cond, ctx, env)
		out = append(out, a.query(e.Then, ctx, env)...)
	}
	if i.Else == nil {
		return append(out, ctx...)
	}
	return append(out, a.query(i.Else, ctx, env)...)
}

// other walks the parts of a term read whole, so variables they use are
// marked too; label/break give up.
func (a *jqAnalysis) other(t *gojq.Term, ctx []*readTree, env *scope) {
	switch t.Type {
	case gojq.TermTypeRecurse:
	case gojq.TermTypeTry:
		if t.Try.Catch != nil {
			// an error message previews the value it failed on, which may
			// be any value a variable holds
			for s := env; s != nil; s = s.next {
				use(s.vals)
			}
		}
		use(a.query(t.Try.Body, ctx, env))
		if t.Try.Catch != nil {
			use(a.query(t.Try.Catch, []*readTree{nil}, env))
		}
	case gojq.TermTypeReduce:
		a.fold(t.Reduce.Query, t.Reduce.Patterns, []*gojq.Query{t.Reduce.Start, t.Reduce.Update}, ctx, env)
	case gojq.TermTypeForeach:
		a.fold(t.Foreach.Query, t.Foreach.Patterns, []*gojq.Query{t.Foreach.Start, t.Foreach.Update, t.Foreach.Extract}, ctx, env)
	default:
		a.unknown = true
	}
}

func (a *jqAnalysis) fold(src *gojq.Query, patterns []*gojq.Pattern, parts []*gojq.Query, ctx []*readTree, env *scope) {
	vals := a.query(src, ctx, env)
	use(vals)
	for _, p := range patterns {
		env = a.bindNames(p, env)
	}
	for _, q := range parts {
		if q != nil {
			use(a.query(q, []*readTree{nil}, env))
		}
	}
}
