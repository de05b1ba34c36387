package values

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-openapi/spec"
	"github.com/google/cel-go/cel"
)

// RulesKey is the schema extension with CEL rules, DKP's counterpart of
// x-kubernetes-validations: a list of {expression, message} at any level;
// `self` is the value at that level, `oldSelf` the previous value (a rule
// that reads oldSelf is skipped when there is none).
const RulesKey = "x-deckhouse-validations"

// RuleError is a CEL rule that failed or could not be evaluated.
type RuleError struct {
	Path       string // dotted path of the node ("" for the root)
	Expression string
	Message    string
}

func (e *RuleError) Error() string {
	where := e.Path
	if where == "" {
		where = "(root)"
	}
	return fmt.Sprintf("%s: %s (rule %s: %s)", where, e.Message, RulesKey, e.Expression)
}

// ValidateRules evaluates every x-deckhouse-validations rule of s against v,
// with old as oldSelf (nil: no old value). It returns the first failure.
func ValidateRules(s *spec.Schema, v, old map[string]any) error {
	if s == nil {
		return nil
	}
	var oldV any
	if old != nil {
		oldV = old
	}
	return walkRules(s, "", v, oldV, old != nil)
}

func walkRules(s *spec.Schema, path string, v, old any, hasOld bool) error {
	if s == nil || v == nil {
		return nil
	}
	if raw, ok := s.Extensions[RulesKey]; ok {
		if err := evalRules(raw, path, v, old, hasOld); err != nil {
			return err
		}
	}
	switch t := v.(type) {
	case map[string]any:
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		oldMap, _ := old.(map[string]any)
		for _, n := range names {
			child := s.Properties[n]
			cv, ok := t[n]
			if !ok {
				continue
			}
			ov, had := oldMap[n]
			if err := walkRules(&child, rulePath(path, n), cv, ov, hasOld && had); err != nil {
				return err
			}
		}
	case []any:
		if s.Items != nil && s.Items.Schema != nil {
			for i, item := range t {
				if err := walkRules(s.Items.Schema, fmt.Sprintf("%s[%d]", path, i), item, nil, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func rulePath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func evalRules(raw any, path string, v, old any, hasOld bool) error {
	list, ok := raw.([]any)
	if !ok {
		return &RuleError{Path: path, Message: fmt.Sprintf("%s must be a list of {expression, message}", RulesKey)}
	}
	env, err := cel.NewEnv(cel.Variable("self", cel.DynType), cel.Variable("oldSelf", cel.DynType), cel.CrossTypeNumericComparisons(true))
	if err != nil {
		return err
	}
	for _, item := range list {
		rule, _ := item.(map[string]any)
		expr, _ := rule["expression"].(string)
		msg, _ := rule["message"].(string)
		if expr == "" {
			return &RuleError{Path: path, Message: "a rule has no expression"}
		}
		if msg == "" {
			msg = "failed rule"
		}
		if strings.Contains(expr, "oldSelf") && !hasOld {
			continue
		}
		ast, iss := env.Compile(expr)
		if iss != nil && iss.Err() != nil {
			return &RuleError{Path: path, Expression: expr, Message: "the rule does not compile: " + iss.Err().Error()}
		}
		prg, err := env.Program(ast)
		if err != nil {
			return &RuleError{Path: path, Expression: expr, Message: err.Error()}
		}
		vars := map[string]any{"self": v, "oldSelf": old}
		out, _, err := prg.Eval(vars)
		if err != nil {
			return &RuleError{Path: path, Expression: expr, Message: "evaluating: " + err.Error()}
		}
		if b, ok := out.Value().(bool); !ok || !b {
			return &RuleError{Path: path, Expression: expr, Message: msg}
		}
	}
	return nil
}
