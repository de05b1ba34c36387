package helm

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// crdFile is one YAML file of a chart's crds/ directory.
type crdFile struct {
	path    string // relative to the chart directory
	data    []byte
	objects []*unstructured.Unstructured
}

// readCRDs reads the CustomResourceDefinitions under dir/crds (YAML files,
// DKP's doc-ru-* documentation overlays left out), in path order.
func readCRDs(dir string) ([]crdFile, error) {
	root := filepath.Join(dir, "crds")
	if _, err := os.Stat(root); err != nil {
		return nil, nil
	}
	var out []crdFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := strings.ToLower(filepath.Ext(path))
		if (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(d.Name(), "doc-ru-") {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		f, err := readCRDFile(path)
		f.path = filepath.ToSlash(rel)
		if err != nil {
			return err
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading CRDs in %s: %w", root, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

func readCRDFile(path string) (crdFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return crdFile{}, err
	}
	objs, err := objects(string(data))
	if err != nil {
		return crdFile{}, fmt.Errorf("%s: %w", path, err)
	}
	for _, u := range objs {
		if u.GetKind() != "CustomResourceDefinition" {
			return crdFile{}, fmt.Errorf("%s: %s %s is not a CustomResourceDefinition (crds/ holds only CRDs)", path, u.GetKind(), u.GetName())
		}
		// DKP modules annotate CRD schemas with documentation keys
		// (x-doc-*) that the API server refuses; DKP drops them too.
		stripDocKeys(u.Object)
	}
	return crdFile{path: path, data: data, objects: objs}, nil
}

// ApplyCRDs creates or updates the CustomResourceDefinitions in files
// (server-side apply, deckhand as the field manager), so a chart's custom
// objects find their kinds; other kinds in those files are refused. Apply
// does this itself for the chart's crds/.
func (c *Client) ApplyCRDs(ctx context.Context, files []string) error {
	var crds []crdFile
	for _, p := range files {
		f, err := readCRDFile(p)
		if err != nil {
			return err
		}
		crds = append(crds, f)
	}
	return c.applyCRDs(ctx, crds)
}

func (c *Client) applyCRDs(ctx context.Context, crds []crdFile) error {
	var names []string
	for _, f := range crds {
		for _, u := range f.objects {
			raw, err := u.MarshalJSON()
			if err != nil {
				return err
			}
			force := true
			if _, err := c.dyn.Resource(crdGVR).Patch(ctx, u.GetName(), types.ApplyPatchType, raw, metav1.PatchOptions{FieldManager: FieldManager, Force: &force}); err != nil {
				return fmt.Errorf("%s: applying CRD %s: %w", f.path, u.GetName(), err)
			}
			names = append(names, u.GetName())
		}
	}
	if len(names) == 0 {
		return nil
	}
	defer c.forgetDiscovery()
	return c.waitEstablished(ctx, names)
}

// waitEstablished waits until the API server serves the CRDs' kinds (a
// chart's custom objects would fail before).
func (c *Client) waitEstablished(ctx context.Context, names []string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, name := range names {
		for {
			u, err := c.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err == nil && crdEstablished(u) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for CRD %s to be established: %w", name, context.Cause(ctx))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func crdEstablished(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// stripDocKeys removes every map key starting with "x-doc" below v.
func stripDocKeys(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if strings.HasPrefix(k, "x-doc") {
				delete(t, k)
				continue
			}
			stripDocKeys(child)
		}
	case []any:
		for _, child := range t {
			stripDocKeys(child)
		}
	}
}
