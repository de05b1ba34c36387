package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
)

// Actions a hook may write to $METRICS_PATH.
const (
	ActionSet     = "set"     // gauge set
	ActionAdd     = "add"     // counter add
	ActionObserve = "observe" // histogram observe
	ActionExpire  = "expire"  // drop every series of a group
)

// Operation is one line of a hook's $METRICS_PATH file.
type Operation struct {
	Name    string            `json:"name,omitempty"`
	Action  string            `json:"action,omitempty"`
	Value   *float64          `json:"value,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	Buckets []float64         `json:"buckets,omitempty"`
	Group   string            `json:"group,omitempty"`
	// Line is the line in the file where the operation starts (1-based).
	Line int `json:"-"`
}

// rawOperation adds shell-operator's deprecated shortcuts {"name":..,"set":n} and {"add":n}.
type rawOperation struct {
	Name    string            `json:"name"`
	Action  string            `json:"action"`
	Value   *float64          `json:"value"`
	Labels  map[string]string `json:"labels"`
	Buckets []float64         `json:"buckets"`
	Group   string            `json:"group"`
	Set     *float64          `json:"set"`
	Add     *float64          `json:"add"`
}

var (
	metricNameRe = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRe  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// ParseFile reads a $METRICS_PATH file. A missing or empty file means no operations.
func ParseFile(path string) ([]Operation, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading metrics file %s: %w", path, err)
	}
	ops, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("metrics file %s: %w", path, err)
	}
	return ops, nil
}

// Parse decodes a stream of JSON metric operations (one per line by
// convention; any whitespace between values is accepted) and validates each.
// The first problem is returned with its line and field; on error no
// operations are returned.
func Parse(data []byte) ([]Operation, error) {
	var ops []Operation
	dec := json.NewDecoder(bytes.NewReader(data))
	var end int64
	for {
		start := skipSpace(data, end)
		var raw rawOperation
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return ops, nil
		}
		line := lineAt(data, start)
		if err != nil {
			return nil, decodeError(data, line, err)
		}
		end = dec.InputOffset()
		op, err := raw.operation()
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		op.Line = line
		ops = append(ops, op)
	}
}

func decodeError(data []byte, line int, err error) error {
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Errorf("line %d: field %q: %s is not a valid %s", lineAt(data, int(typeErr.Offset)-1), typeErr.Field, typeErr.Value, typeErr.Type)
	case errors.As(err, &synErr):
		if at := lineAt(data, int(synErr.Offset)-1); at != line {
			return fmt.Errorf("line %d: invalid JSON (object starting here, error found on line %d): %w", line, at, err)
		}
		return fmt.Errorf("line %d: invalid JSON: %w", line, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("line %d: truncated JSON object", line)
	}
	return fmt.Errorf("line %d: %w", line, err)
}

func (r rawOperation) operation() (Operation, error) {
	op := Operation{Name: r.Name, Action: r.Action, Value: r.Value, Labels: r.Labels, Buckets: r.Buckets, Group: r.Group}
	if r.Set != nil && r.Add != nil {
		return op, fmt.Errorf(`fields "set" and "add" are mutually exclusive`)
	}
	if (r.Set != nil || r.Add != nil) && (r.Action != "" || r.Value != nil) {
		return op, fmt.Errorf(`field "set"/"add" shortcut cannot be combined with "action" or "value"`)
	}
	switch {
	case r.Set != nil:
		op.Action, op.Value = ActionSet, r.Set
	case r.Add != nil:
		op.Action, op.Value = ActionAdd, r.Add
	}
	return op, op.validate()
}

func (op Operation) validate() error {
	switch op.Action {
	case "":
		return fmt.Errorf(`field "action": one of "action", "set" or "add" is required`)
	case ActionSet, ActionAdd, ActionObserve:
	case ActionExpire:
		if op.Group == "" {
			return fmt.Errorf(`field "group": required for action "expire"`)
		}
		return nil
	default:
		return fmt.Errorf(`field "action": unsupported action %q (want set, add, observe or expire)`, op.Action)
	}
	if op.Name == "" {
		return fmt.Errorf(`field "name": required for action %q`, op.Action)
	}
	if !metricNameRe.MatchString(op.Name) {
		return fmt.Errorf(`field "name": %q is not a valid Prometheus metric name`, op.Name)
	}
	if op.Value == nil {
		return fmt.Errorf(`field "value": required for action %q (metric %q)`, op.Action, op.Name)
	}
	if op.Action == ActionAdd && *op.Value < 0 {
		return fmt.Errorf(`field "value": counter %q cannot add a negative value %v`, op.Name, *op.Value)
	}
	if op.Action == ActionObserve {
		if len(op.Buckets) == 0 {
			return fmt.Errorf(`field "buckets": required for action "observe" (metric %q)`, op.Name)
		}
		for i := 1; i < len(op.Buckets); i++ {
			if op.Buckets[i] <= op.Buckets[i-1] {
				return fmt.Errorf(`field "buckets": must be strictly increasing (metric %q)`, op.Name)
			}
		}
	}
	for k := range op.Labels {
		if !labelNameRe.MatchString(k) || len(k) > 1 && k[:2] == "__" {
			return fmt.Errorf(`field "labels": %q is not a valid label name (metric %q)`, k, op.Name)
		}
	}
	return nil
}

func skipSpace(data []byte, i int64) int {
	j := int(i)
	for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
		j++
	}
	return j
}

func lineAt(data []byte, offset int) int {
	if offset < 0 {
		offset = 0
	}
	if offset > len(data) {
		offset = len(data)
	}
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}
