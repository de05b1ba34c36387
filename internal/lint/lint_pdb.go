package lint

import (
	"encoding/json"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

type pdbSelector struct {
	ns  string
	sel labels.Selector
}

// lintPDB runs templates/pdb: the pods of every Deployment and StatefulSet
// are covered by a PodDisruptionBudget in their namespace, and a PDB is a
// plain object, not a Helm hook (a hook PDB is deleted and recreated around
// every release, leaving pods unprotected meanwhile).
func lintPDB(c *collector, s *objectSet) {
	var pdbs []pdbSelector
	for _, o := range s.objs {
		if o.ref.Kind != "PodDisruptionBudget" {
			continue
		}
		ann := stringsAt(mapAt(o.raw, "metadata"), "annotations")
		if ann["helm.sh/hook"] != "" || ann["helm.sh/hook-delete-policy"] != "" {
			c.addProblem(o.problem(LinterTemplates, "pdb", "", "helm.sh/hook", "a PodDisruptionBudget must not carry helm.sh/hook annotations"))
			continue
		}
		var spec struct {
			Selector *metav1.LabelSelector `json:"selector"`
		}
		data, _ := json.Marshal(o.raw["spec"])
		if err := json.Unmarshal(data, &spec); err != nil {
			c.addProblem(o.problem(LinterTemplates, "pdb", "", "spec:", "PodDisruptionBudget spec does not decode: %v", err))
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(spec.Selector)
		if err != nil {
			c.addProblem(o.problem(LinterTemplates, "pdb", "", "selector", "PodDisruptionBudget selector: %v", err))
			continue
		}
		pdbs = append(pdbs, pdbSelector{ns: s.namespaceOf(o), sel: sel})
	}
	for _, o := range s.objs {
		if o.ref.Kind != "Deployment" && o.ref.Kind != "StatefulSet" {
			continue
		}
		podLabels := labels.Set(stringsAt(mapAt(o.raw, "spec", "template", "metadata"), "labels"))
		ns := s.namespaceOf(o)
		covered := false
		for _, p := range pdbs {
			if p.ns == ns && p.sel.Matches(podLabels) {
				covered = true
				break
			}
		}
		if !covered {
			c.addProblem(o.problem(LinterTemplates, "pdb", "", "name:", "no PodDisruptionBudget in %s selects this %s's pods (labels %s): add one", ns, o.ref.Kind, strings.TrimSpace(podLabels.String())))
		}
	}
}
