package registry_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
)

func TestImageFlagsAndFiles(t *testing.T) {
	got, err := registry.ParseImageFlags([]string{"images/my-controller=reg.example.io/a/b:v1", "webhook_server=reg.example.io/c@sha256:" + strings.Repeat("a", 64)})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Key != "myController" || got[1].Key != "webhookServer" || got[0].Ref != "reg.example.io/a/b:v1" {
		t.Fatalf("ParseImageFlags = %+v", got)
	}
	for _, bad := range []string{"noequals", "=ref", "name="} {
		if _, err := registry.ParseImageFlags([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("--image %q: %v, want an error quoting it", bad, err)
		}
	}

	dir := t.TempDir()
	plain := filepath.Join(dir, "images.yaml")
	_ = os.WriteFile(plain, []byte("agent: reg.example.io/agent:1\ncontroller: reg.example.io/ctl:2\n"), 0o644)
	got, err = registry.LoadImagesFile(plain)
	if err != nil || len(got) != 2 || got[0].Key != "agent" || got[1].Ref != "reg.example.io/ctl:2" {
		t.Fatalf("plain images file: %+v, %v", got, err)
	}

	report := filepath.Join(dir, "images_tags_werf.json")
	_ = os.WriteFile(report, []byte(`{"Images": {
		"bundle": {"DockerImageName": "reg/m:bundle", "Final": true},
		"release-channel-version": {"DockerImageName": "reg/m:rcv", "Final": true},
		"my-controller": {"DockerImageName": "reg/m:abc-123", "Final": true},
		"my-controller-artifact": {"DockerImageName": "reg/m:art", "Final": false}
	}}`), 0o644)
	got, err = registry.LoadImagesFile(report)
	if err != nil || len(got) != 1 || got[0].Key != "myController" || got[0].Ref != "reg/m:abc-123" {
		t.Fatalf("werf build report: %+v, %v", got, err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("- a\n- b\n"), 0o644)
	if _, err := registry.LoadImagesFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("list instead of map: %v", err)
	}
	if _, err := registry.LoadImagesFile(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestBuildRefusesUnknownImage(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		c := newClient(t)
		_, err := registry.Build(ctx(t), loadModule(t, writeModule(t)), registry.BuildOptions{
			Version: "v1.0.0",
			Images:  []registry.ImageRef{{Key: "ghost", Ref: source + "/nothing:here"}},
			Client:  c,
		})
		if err == nil || !strings.Contains(err.Error(), "ghost") || !strings.Contains(err.Error(), "nothing:here") {
			t.Fatalf("unknown image: %v, want an error naming the image and its reference", err)
		}
	})
}
