package module

import "github.com/deckhand-dev/deckhand/internal/values"

// Module is a module directory as the runtime and the developer verbs see it.
type Module struct {
	// Dir is the absolute module directory (a symlink is kept, not resolved).
	Dir string
	// Name is the kebab-case module name: module.yaml name, else the directory
	// name without its numeric prefix.
	Name string
	// ValuesKey is the camelCase values section ("echoServer"); it converts
	// back to Name.
	ValuesKey string
	// Weight orders module starts: module.yaml weight, else the directory's
	// numeric prefix, else the default weight (DefaultWeight unless
	// WithDefaultWeight says otherwise).
	Weight uint32
	// Definition is module.yaml; nil when the module has none.
	Definition *Definition
	// DefinitionDoc keeps module.yaml positions for messages.
	DefinitionDoc *Document
	// HasChart is true when the module is a Helm chart (Chart.yaml or
	// templates/); addon-operator skips the Helm step of other modules.
	HasChart bool
	// HasChartFile is false when Chart.yaml is absent (one is generated for rendering).
	HasChartFile bool
	// Schemas are the openapi/ schemas (never nil; fields nil when files are absent).
	Schemas *values.Schemas
	// StaticValues is the module's values.yaml (the whole document).
	StaticValues map[string]any
	// HooksDir is the absolute hooks/ directory; "" when the module has none.
	HooksDir string
	// Hooks are executable hook files, relative to Dir ("hooks/hello.sh"), sorted.
	Hooks []string
	// NonExecutableHooks are files under hooks/ that start with "#!" but lack
	// an execute bit. Only Load and LoadLenient look for them (a lint
	// finding); LoadRuntime and Discover leave this empty.
	NonExecutableHooks []string
	// CRDs are YAML files under crds/, relative to Dir (doc-ru-* overlays excluded), sorted.
	CRDs []string
	// EnabledScript is the absolute path of the module's `enabled` script;
	// "" when it has none.
	EnabledScript string
}

// Namespace is where the module's release goes: module.yaml namespace, else
// d8-system (addon-operator's own namespace, where DKP installs releases).
func (m *Module) Namespace() string {
	if m.Definition != nil && m.Definition.Namespace != "" {
		return m.Definition.Namespace
	}
	return "d8-system"
}
