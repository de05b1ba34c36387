package helm

import (
	"strings"
	"testing"
)

func TestStripDocKeys(t *testing.T) {
	objs, err := objects(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: a.b.c}
spec:
  versions:
  - schema:
      openAPIV3Schema:
        x-doc-search: keep out
        properties:
          size: {type: integer, x-doc-default: 3, x-doc-d8editions: [ee]}
`)
	if err != nil || len(objs) != 1 {
		t.Fatalf("objects: %v %v", objs, err)
	}
	stripDocKeys(objs[0].Object)
	raw, _ := objs[0].MarshalJSON()
	if strings.Contains(string(raw), "x-doc") || !strings.Contains(string(raw), `"type":"integer"`) {
		t.Fatalf("after strip: %s", raw)
	}
}
