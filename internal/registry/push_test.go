package registry_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deckhand-dev/deckhand/internal/registry"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestPushPullRoundTrip(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		c := newClient(t)
		dir := writeModule(t)

		// A container image pushed by some other builder, elsewhere in the registry.
		host := strings.SplitN(source, "/", 2)[0]
		appImg, err := random.Image(1024, 2)
		if err != nil {
			t.Fatal(err)
		}
		appRef := writeImage(t, host+"/builds/hello-controller:abc", appImg)
		appDigest, _ := appImg.Digest()

		a, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{
			Version: "v1.2.3",
			Images:  []registry.ImageRef{{Key: "helloController", Ref: appRef.String()}},
			Client:  c,
		})
		if err != nil {
			t.Fatal(err)
		}
		var updates int
		var last v1.Update
		res, err := c.Push(ctx(t), source, a, registry.PushOptions{Channels: []string{"alpha"}, Progress: func(u v1.Update) { updates++; last = u }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Unchanged {
			t.Fatal("first push reported unchanged")
		}
		if updates == 0 || last.Total == 0 || last.Complete != last.Total {
			t.Fatalf("progress: %d updates, last %+v; want updates ending complete", updates, last)
		}
		// The container image now lives in S/m by digest.
		if _, err := remote.Head(mustRef(t, source+"/hello@"+appDigest.String())); err != nil {
			t.Fatalf("container image not copied into the module repo: %v", err)
		}

		// ls / tags / inspect.
		mods, err := c.ListModules(ctx(t), source)
		if err != nil || len(mods) != 1 || mods[0] != "hello" {
			t.Fatalf("ListModules = %v, %v; want [hello]", mods, err)
		}
		tags, err := c.Tags(ctx(t), source, "hello")
		if err != nil {
			t.Fatal(err)
		}
		if len(tags.Versions) != 1 || tags.Versions[0].Version != "v1.2.3" || !tags.Versions[0].Bundle || !tags.Versions[0].Release || tags.Channels["alpha"] != "v1.2.3" {
			t.Fatalf("Tags = %+v", tags)
		}
		info, err := c.Inspect(ctx(t), source, "hello", "alpha")
		if err != nil {
			t.Fatal(err)
		}
		if info.Version != "v1.2.3" || info.ImagesDigests["helloController"] != appDigest.String() ||
			info.Bundle.Size == 0 || info.Release.Size == 0 || len(info.Channels) != 1 ||
			info.Changelog["features"] == nil {
			t.Fatalf("Inspect = %+v", info)
		}

		// pull -> the tree is the source's bundle files + metadata.
		dest := filepath.Join(t.TempDir(), "downloaded", "hello", "v1.2.3")
		pr, err := c.Pull(ctx(t), source, "hello", "v1.2.3", dest, registry.PullOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pr.Digest != info.Bundle.Digest {
			t.Fatalf("pulled %s, inspect says %s", pr.Digest, info.Bundle.Digest)
		}
		assertTree(t, readTree(t, dest), expectedBundle("v1.2.3", "{\n  \"helloController\": \""+appDigest.String()+"\"\n}\n"))

		// Same content again: no-op success.
		again, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "1.2.3", Images: []registry.ImageRef{{Key: "helloController", Ref: appRef.String()}}, Client: c})
		if err != nil {
			t.Fatal(err)
		}
		res, err = c.Push(ctx(t), source, again, registry.PushOptions{})
		if err != nil || !res.Unchanged {
			t.Fatalf("re-push of same content: %+v, %v; want unchanged success", res, err)
		}

		// Different content under the same version: refused, then forced.
		if err := os.WriteFile(filepath.Join(dir, "templates", "deployment.yaml"), []byte("kind: StatefulSet\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		changed, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: "v1.2.3"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Push(ctx(t), source, changed, registry.PushOptions{})
		if !errors.Is(err, registry.ErrVersionExists) || !strings.Contains(err.Error(), "v1.2.3") {
			t.Fatalf("overwrite without force: %v, want ErrVersionExists naming the version", err)
		}
		pulledAgain := filepath.Join(t.TempDir(), "check")
		if _, err := c.Pull(ctx(t), source, "hello", "v1.2.3", pulledAgain, registry.PullOptions{}); err != nil {
			t.Fatal(err)
		}
		if readTree(t, pulledAgain)["templates/deployment.yaml"] != "kind: Deployment\n" {
			t.Fatal("a refused push changed the published version")
		}
		if _, err := c.Push(ctx(t), source, changed, registry.PushOptions{Force: true}); err != nil {
			t.Fatalf("forced overwrite: %v", err)
		}
		// Pull over the existing dir: replaced as a whole.
		if _, err := c.Pull(ctx(t), source, "hello", "v1.2.3", dest, registry.PullOptions{}); err != nil {
			t.Fatal(err)
		}
		got := readTree(t, dest)
		if got["templates/deployment.yaml"] != "kind: StatefulSet\n" || got["images_digests.json"] != "{}\n" {
			t.Fatalf("pull after forced push: %v", got)
		}
		siblings, _ := os.ReadDir(filepath.Dir(dest))
		if len(siblings) != 2 || siblings[0].Name() != ".v1.2.3.deckhand-pull.json" || siblings[1].Name() != "v1.2.3" {
			t.Fatalf("pull left temp dirs next to the target: %v", siblings)
		}
	})
}

func TestChannels(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		c := newClient(t)
		dir := writeModule(t)
		for _, v := range []string{"v1.0.0", "v1.1.0", "v1.10.0"} {
			a, err := registry.Build(ctx(t), loadModule(t, dir), registry.BuildOptions{Version: v})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Push(ctx(t), source, a, registry.PushOptions{Channels: []string{"alpha"}}); err != nil {
				t.Fatal(err)
			}
		}
		res, err := c.SetChannel(ctx(t), source, "hello", "stable", "v1.1.0")
		if err != nil {
			t.Fatal(err)
		}
		if res.Previous != "" || res.Version != "v1.1.0" {
			t.Fatalf("SetChannel = %+v", res)
		}
		res, err = c.SetChannel(ctx(t), source, "hello", "stable", "1.0.0")
		if err != nil || res.Previous != "v1.1.0" {
			t.Fatalf("SetChannel back = %+v, %v; want previous v1.1.0", res, err)
		}
		tags, err := newClient(t).Tags(ctx(t), source, "hello")
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, v := range tags.Versions {
			order = append(order, v.Version)
		}
		if strings.Join(order, ",") != "v1.0.0,v1.1.0,v1.10.0" {
			t.Fatalf("versions in order %v", order)
		}
		if tags.Channels["alpha"] != "v1.10.0" || tags.Channels["stable"] != "v1.0.0" {
			t.Fatalf("channels %v", tags.Channels)
		}
		dest := filepath.Join(t.TempDir(), "stable")
		pr, err := c.Pull(ctx(t), source, "hello", "stable", dest, registry.PullOptions{})
		if err != nil || pr.Version != "v1.0.0" {
			t.Fatalf("pull stable = %+v, %v", pr, err)
		}

		// Bad input: unknown channel, missing version, unknown module.
		if _, err := c.SetChannel(ctx(t), source, "hello", "nightly", "v1.0.0"); err == nil || !strings.Contains(err.Error(), "nightly") {
			t.Fatalf("unknown channel: %v", err)
		}
		if _, err := c.SetChannel(ctx(t), source, "hello", "beta", "v9.9.9"); err == nil || !strings.Contains(err.Error(), "v9.9.9") {
			t.Fatalf("missing version: %v", err)
		}
		if _, err := c.Tags(ctx(t), source, "nope"); err == nil || !strings.Contains(err.Error(), "nope") {
			t.Fatalf("unknown module: %v", err)
		}
		if _, err := c.Pull(ctx(t), source, "hello", "v2.0.0", filepath.Join(t.TempDir(), "x"), registry.PullOptions{}); err == nil || !strings.Contains(err.Error(), "v2.0.0") {
			t.Fatalf("pull of a missing version: %v", err)
		}
	})
}

// writeImage writes img to ref on a test registry and returns ref parsed.
func writeImage(t *testing.T, ref string, img v1.Image) name.Reference {
	t.Helper()
	r := mustRef(t, ref)
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	return r
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFetchRelease(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		c := newClient(t)
		a, err := registry.Build(ctx(t), loadModule(t, writeModule(t)), registry.BuildOptions{Version: "v1.2.3"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Push(ctx(t), source, a, registry.PushOptions{Channels: []string{"early-access"}}); err != nil {
			t.Fatal(err)
		}
		var src registry.Source = c
		rel, err := src.FetchRelease(ctx(t), source, "hello", "early-access")
		if err != nil {
			t.Fatal(err)
		}
		releaseDigest, _ := a.Release.Digest()
		if rel.Version != "v1.2.3" || rel.Digest != releaseDigest.String() || rel.Changelog["features"] == nil ||
			!strings.Contains(string(rel.ModuleYAML), "name: hello") {
			t.Fatalf("FetchRelease = %+v", rel)
		}
		if _, err := src.FetchRelease(ctx(t), source, "hello", "beta"); err == nil || !strings.Contains(err.Error(), "beta") {
			t.Fatalf("missing channel: %v", err)
		}
	})
}

func TestPushFromLayout(t *testing.T) {
	forEachRegistry(t, func(t *testing.T, source string) {
		c := newClient(t)
		host := strings.SplitN(source, "/", 2)[0]
		appImg, err := random.Image(512, 1)
		if err != nil {
			t.Fatal(err)
		}
		appRef := writeImage(t, host+"/elsewhere/app:1", appImg)
		appDigest, _ := appImg.Digest()
		a, err := registry.Build(ctx(t), loadModule(t, writeModule(t)), registry.BuildOptions{Version: "v2.0.0", Images: []registry.ImageRef{{Key: "app", Ref: appRef.String()}}, Client: c})
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "layout")
		if _, err := registry.WriteLayout(dir, a, []string{"beta"}); err != nil {
			t.Fatal(err)
		}
		loaded, channels, err := registry.ReadLayout(dir)
		if err != nil {
			t.Fatal(err)
		}
		if loaded.Module != "hello" || loaded.Version != "v2.0.0" || len(channels) != 1 || channels[0] != "beta" || loaded.ImagesDigests["app"] != appDigest.String() {
			t.Fatalf("ReadLayout = %+v %v", loaded, channels)
		}
		if digestsOf(t, loaded) != digestsOf(t, a) {
			t.Fatalf("layout digests %v, built %v", digestsOf(t, loaded), digestsOf(t, a))
		}

		// The layout has no container images: refused until the image is in S/m.
		_, err = c.Push(ctx(t), source, loaded, registry.PushOptions{Channels: channels})
		if err == nil || !strings.Contains(err.Error(), "app = "+appDigest.String()) {
			t.Fatalf("push of a layout whose image is missing: %v", err)
		}
		if tags, _ := newClient(t).ListModules(ctx(t), source); len(tags) != 0 {
			t.Fatalf("a refused push registered the module: %v", tags)
		}
		writeImage(t, source+"/hello@"+appDigest.String(), appImg)
		if _, err := c.Push(ctx(t), source, loaded, registry.PushOptions{Channels: channels}); err != nil {
			t.Fatal(err)
		}
		rel, err := c.FetchRelease(ctx(t), source, "hello", "beta")
		if err != nil || rel.Version != "v2.0.0" {
			t.Fatalf("beta after layout push: %+v, %v", rel, err)
		}
	})
}
