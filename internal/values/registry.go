package values

import "github.com/go-openapi/spec"

// Registry is where an external module's images live: DKP injects it from the
// ModuleSource as <moduleKey>.registry, and lib-helm builds image references
// and the module's pull secret from it.
type Registry struct {
	// Base is the source repository ("registry.example.com/modules").
	Base string `json:"base"`
	// DockerCfg is the base64 .dockerconfigjson for Base.
	DockerCfg string `json:"dockercfg"`
	// Scheme is "http" or "https".
	Scheme string `json:"scheme"`
	// CA is a PEM bundle for a registry with a private CA, or "".
	CA string `json:"ca,omitempty"`
}

func (r *Registry) values() map[string]any {
	out := map[string]any{"base": r.Base, "dockercfg": r.DockerCfg, "scheme": r.Scheme}
	if r.CA != "" {
		out["ca"] = r.CA
	}
	return out
}

// registrySchema is the schema addon-operator injects for the registry section.
func registrySchema() spec.Schema {
	str := func() spec.Schema { return *spec.StringProperty() }
	s := spec.Schema{}
	s.Type = spec.StringOrArray{"object"}
	s.Properties = map[string]spec.Schema{"base": str(), "dockercfg": str(), "scheme": str(), "ca": str()}
	s.AdditionalProperties = &spec.SchemaOrBool{Allows: false}
	return s
}

// WithRegistry returns schemas whose values and helm schemas carry DKP's
// registry section, replacing whatever the module declared under that name
// (modules write a placeholder "registry: {type: object}"); the receiver is
// not modified.
func (s *Schemas) WithRegistry() *Schemas {
	out := *s
	out.Values = addProperty(s.Values, "registry", registrySchema())
	out.Helm = addProperty(s.Helm, "registry", registrySchema())
	return &out
}

func addProperty(s *spec.Schema, name string, prop spec.Schema) *spec.Schema {
	if s == nil {
		return nil
	}
	cp := *s
	cp.Properties = make(map[string]spec.Schema, len(s.Properties)+1)
	for k, v := range s.Properties {
		cp.Properties[k] = v
	}
	cp.Properties[name] = prop
	return &cp
}
