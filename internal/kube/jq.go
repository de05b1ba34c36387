package kube

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/itchyny/gojq"
)

// jqProgram is a jq filter compiled once with gojq and run on many objects.
type jqProgram struct {
	code  *gojq.Code
	src   string
	reads *readTree // what the program can read of its input; nil: all of it
}

// compileJQ compiles src; libraryPaths are directories searched for jq
// modules (`import "x" as x;`), as shell-operator's JQ_LIBRARY_PATH.
func compileJQ(src string, libraryPaths ...string) (*jqProgram, error) {
	q, err := gojq.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parsing jq %q: %w", src, err)
	}
	var opts []gojq.CompilerOption
	if len(libraryPaths) > 0 {
		opts = append(opts, gojq.WithModuleLoader(gojq.NewModuleLoader(libraryPaths)))
	}
	code, err := gojq.Compile(q, opts...)
	if err != nil {
		return nil, fmt.Errorf("compiling jq %q: %w", src, err)
	}
	reads := jqReads(q)
	for _, p := range libraryPaths {
		if filepath.Base(p) == ".jq" { // gojq loads it first: its defs may redefine select, map
			reads = nil
		}
	}
	return &jqProgram{code: code, src: src, reads: reads}, nil
}

// outputs runs the program on v (a decoded JSON value; integers of any Go
// type are accepted) and collects its outputs. `halt` stops the program
// without an error, as in shell-operator.
func (p *jqProgram) outputs(v any) ([]any, error) {
	return p.run(jqInput(v))
}

// run is outputs on a value whose integers are already int.
func (p *jqProgram) run(v any) ([]any, error) {
	iter := p.code.Run(v)
	var out []any
	for {
		r, ok := iter.Next()
		if !ok {
			return out, nil
		}
		if err, isErr := r.(error); isErr {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				return out, nil
			}
			return nil, fmt.Errorf("jq %q: %w", p.src, err)
		}
		out = append(out, r)
	}
}

// filter runs the program and serializes its result exactly as
// shell-operator does for filterResult: no output is `null`, one output is
// that value, several outputs become a JSON array; compact JSON with sorted
// keys and HTML characters escaped (encoding/json defaults, which
// shell-operator's goccy/go-json reproduces).
func (p *jqProgram) filter(v any) ([]byte, error) {
	return p.filterNormalized(jqInput(v))
}

// filterNormalized is filter on a value whose integers are already int (the
// pruner's output), which spares the walk over it.
func (p *jqProgram) filterNormalized(v any) ([]byte, error) {
	out, err := p.run(v)
	if err != nil {
		return nil, err
	}
	var b []byte
	switch len(out) {
	case 0:
		return []byte("null"), nil
	case 1:
		b, err = json.Marshal(out[0])
	default:
		b, err = json.Marshal(out)
	}
	if err != nil {
		return nil, fmt.Errorf("jq %q: encoding result: %w", p.src, err)
	}
	return b, nil
}

// jqInput converts, in place, the integer types that unstructured objects
// carry (int64) into int, the only integer type gojq accepts.
func jqInput(v any) any {
	out, _ := normalizeJQ(v)
	return out
}

// normalizeJQ is jqInput reporting whether v itself was replaced, so maps
// and slices are written only where a number changes type (a map write per
// key would cost more than the walk).
func normalizeJQ(v any) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if n, changed := normalizeJQ(e); changed {
				t[k] = n
			}
		}
		return t, false
	case []any:
		for i, e := range t {
			if n, changed := normalizeJQ(e); changed {
				t[i] = n
			}
		}
		return t, false
	case int64:
		return int(t), true
	case int32:
		return int(t), true
	case float32:
		return float64(t), true
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return int(i), true
		}
		f, _ := t.Float64()
		return f, true
	default:
		return v, false
	}
}
