// Package webhook serves hooks' admission and conversion bindings
// (shell-operator's kubernetesValidating, kubernetesMutating and
// kubernetesCustomResourceConversion) over TLS: it registers the
// Validating/MutatingWebhookConfiguration and the CRDs' spec.conversion
// from the bindings, runs the hook synchronously for each request (outside
// the queues, a few at a time per hook, with the snapshots the queued hooks
// see) and turns the hook's response file into the review response. A
// failing, hanging or malformed hook follows the binding's failurePolicy.
//
// Certificates come from files, reloaded when they change on disk, or are
// generated (a CA and a serving certificate, renewed before expiry) with
// the CA injected into what it registers.
//
// It imports the hook and engine packages; nothing below the engine
// imports it.
package webhook
