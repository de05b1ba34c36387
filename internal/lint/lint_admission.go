package lint

import (
	"strings"
)

// lintWebhookConfigurations runs templates/webhook-configuration-annotations:
// a Validating- or MutatingWebhookConfiguration must wait for its webhook
// server, so DKP's deploy (werf/nelm) orders it with werf.io/weight or a
// werf.io/deploy-dependency-<name> annotation.
func lintWebhookConfigurations(c *collector, s *objectSet) {
	for _, o := range s.objs {
		if o.ref.Kind != "ValidatingWebhookConfiguration" && o.ref.Kind != "MutatingWebhookConfiguration" {
			continue
		}
		ann := mapAt(o.raw, "metadata", "annotations")
		if _, ok := ann["werf.io/weight"]; ok {
			continue
		}
		ordered := false
		for k := range ann {
			if strings.HasPrefix(k, "werf.io/deploy-dependency-") {
				ordered = true
			}
		}
		if !ordered {
			c.addProblem(o.problem(LinterTemplates, "webhook-configuration-annotations", "", "metadata:",
				"needs a werf.io/weight annotation or a werf.io/deploy-dependency-<name> annotation, so it is applied after its webhook server"))
		}
	}
}

// lintKubeRBACProxyCA runs templates/kube-rbac-proxy: a d8- namespace holds
// the kube-rbac-proxy-ca.crt ConfigMap (lib-helm's
// helm_lib_kube_rbac_proxy_ca_certificate). As in dmt, a Namespace object is
// checked when its own metadata.namespace starts with d8-; dmt reads a
// Namespace without metadata.namespace as being in no namespace and skips it,
// and deckhand does the same so that both accept the same modules.
func lintKubeRBACProxyCA(c *collector, s *objectSet) {
	withCA := map[string]bool{}
	for _, o := range s.objs {
		if o.ref.Kind == "ConfigMap" && o.ref.Name == "kube-rbac-proxy-ca.crt" {
			withCA[s.namespaceOf(o)] = true
		}
	}
	for _, o := range s.objs {
		if o.ref.Kind != "Namespace" || !strings.HasPrefix(o.ref.Namespace, "d8-") || withCA[o.ref.Name] {
			continue
		}
		c.addProblem(o.problem(LinterTemplates, "kube-rbac-proxy", "", "name:",
			"namespace %s has no kube-rbac-proxy-ca.crt ConfigMap: render one with lib-helm's helm_lib_kube_rbac_proxy_ca_certificate", o.ref.Name))
	}
}
