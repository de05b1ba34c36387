package lint

import (
	"fmt"
)

// Severity of a lint problem.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding about a module: where (file, line), which rule and what.
type Problem struct {
	// File is relative to the module directory ("module.yaml", "templates/deployment.yaml").
	File string `json:"file"`
	// Line is 1-based; 0 when unknown.
	Line int `json:"line"`
	// Linter and Rule are dmt's names, so .dmtlint.yaml exclusions apply.
	Linter   string   `json:"linter"`
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Object names the rendered object ("Deployment/web") and Container the container, when any.
	Object    *ObjectRef `json:"object,omitempty"`
	Container string     `json:"container,omitempty"`
	// Key is the dotted path of the schema node a problem is about
	// ("properties.mode"), or the ServiceAccount an rbac/binding-subject
	// problem is about: what dmt's string exclusions of those rules name.
	Key string `json:"key,omitempty"`
	// ceiling says how far .dmtlint.yaml impacts may raise a warning (dmt
	// caps some findings at warn level); the zero value lets any impact do so.
	ceiling warnCeiling
}

type warnCeiling int

const (
	// raisable: an "error" impact at any level raises the warning.
	raisable warnCeiling = iota
	// ruleRaisable: only an impact set for the rule itself raises it (dmt's
	// rules whose default level is warn, whatever the linter's impact).
	ruleRaisable
	// alwaysWarn: dmt reports the finding as a warning under any impact.
	alwaysWarn
)

// ObjectRef names a Kubernetes object found in rendered templates.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

func (o *ObjectRef) String() string { return o.Kind + "/" + o.Name }

// String formats the problem as "file:line: rule-id: message".
func (p Problem) String() string {
	msg := p.Message
	if p.Severity == SeverityWarning {
		msg = "warning: " + msg
	}
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Rule, msg)
}
