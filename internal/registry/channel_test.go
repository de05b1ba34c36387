package registry_test

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

// TestSetChannelMissingVersionSaysHowToPublish: pointing a channel at a
// version whose module or release image is missing names the image and the
// command that publishes it.
func TestSetChannelMissingVersionSaysHowToPublish(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		c := newClient(t)
		a, err := registry.Build(ctx(t), loadModule(t, writeModule(t)), registry.BuildOptions{Version: "v1.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Push(ctx(t), source, a, registry.PushOptions{}); err != nil {
			t.Fatal(err)
		}
		hint := "publish it first: deckhand module push DIR --repo " + source + " --version "

		_, err = c.SetChannel(ctx(t), source, "hello", "stable", "v2.0.0")
		if err == nil || !strings.Contains(err.Error(), "module image "+source+"/hello:v2.0.0 does not exist") || !strings.HasSuffix(err.Error(), hint+"v2.0.0") {
			t.Fatalf("channel to a missing version: %v", err)
		}

		// The module image alone (release image deleted) is not enough either.
		relRef, err := name.ParseReference(source + "/hello/release:v1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(relRef)
		if err != nil {
			t.Fatal(err)
		}
		// docker-registry deletes by digest only, the in-process one needs the tag.
		_ = remote.Delete(relRef.Context().Digest(desc.Digest.String()))
		_ = remote.Delete(relRef)
		if _, err := remote.Head(relRef); err == nil {
			t.Fatal("release image still there after deleting it")
		}
		_, err = c.SetChannel(ctx(t), source, "hello", "stable", "v1.0.0")
		if err == nil || !strings.Contains(err.Error(), "release image "+source+"/hello/release:v1.0.0 does not exist") || !strings.HasSuffix(err.Error(), hint+"v1.0.0") {
			t.Fatalf("channel to a version without release image: %v", err)
		}
	})
}
