package kube

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/deckhand-dev/deckhand/internal/testenv"
)

// installWidgetCRD applies testenv.WidgetCRD and waits until c serves it.
func installWidgetCRD(t *testing.T, c *Client) {
	t.Helper()
	cp := testenv.ControlPlane(t)
	testenv.Apply(t, cp.Config, testenv.WidgetCRD)
	testenv.WaitFor(t, 30*time.Second, "Widget CRD served", func() (bool, string) {
		r, err := c.Resolve("test.deckhand.io/v1", "Widget")
		if err != nil {
			return false, err.Error()
		}
		_, err = c.resourceClient(r, "default").List(context.Background(), metav1.ListOptions{})
		return err == nil, ""
	})
}

func newTestClient(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(testenv.ControlPlane(t).Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// getObject reads an object; nil when it does not exist.
func getObject(t *testing.T, c *Client, apiVersion, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	r, err := c.Resolve(apiVersion, kind)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := c.resourceClient(r, ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func mustParse(t *testing.T, text string) []Operation {
	t.Helper()
	ops, err := ParseOperations([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return ops
}
