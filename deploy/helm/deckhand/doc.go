// Package deckhand holds the Go tests of the deckhand Helm chart in this
// directory (the chart's .helmignore keeps them out of the chart): the chart
// renders with the Helm v4 SDK, its objects are accepted by a real
// kube-apiserver, its containers pass the module linter's rules, and its
// crds/ match the generated api/crds.
package deckhand
