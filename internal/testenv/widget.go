package testenv

// WidgetCRD is the custom resource definition tests use when they need a kind
// of their own: group test.deckhand.io, version v1, namespaced, kind Widget
// (plural widgets, short name wdg), with a status subresource; spec and
// status keep any fields. Apply it with Apply.
const WidgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.test.deckhand.io
spec:
  group: test.deckhand.io
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wdg], listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`
