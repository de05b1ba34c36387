package module

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ettle/strcase"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// Image references a template can make, found without rendering. lib-helm's
// helpers take (list <context> "<image>" ["<module>"]) and read
// global.modulesImages.digests.<moduleCamel>.<image> (common images from
// digests.common); templates also index the map directly.
var (
	imageHelperRe  = regexp.MustCompile(`helm_lib_module_(common_)?image(?:_no_fail|_digest|_digest_no_fail)?"\s*\(\s*list\s+\S+\s+"([^"]+)"(?:\s+"([^"]+)")?`)
	digestsPathRe  = regexp.MustCompile(`modulesImages\.digests\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)`)
	digestsIndexRe = regexp.MustCompile(`index\s+\S*modulesImages\.digests\s+"([^"]+)"\s+"([^"]+)"`)
)

// stubImageDigests fills global.modulesImages.digests so lib-helm's image
// helpers render offline, the way DKP fills it from images_digests.json:
// every images/<name> directory of the module (keyed by its camelCase name,
// as DKP's build keys them, and by the directory name), and every image the
// templates ask for by a literal name, of this module, of another one or of
// common. values.StubGlobal already holds DKP's common images. The digests
// are stable fakes derived from the module and image names, so renders are
// reproducible.
func stubImageDigests(global map[string]any, m *Module) error {
	images, _ := global["modulesImages"].(map[string]any)
	if images == nil {
		images = map[string]any{}
		global["modulesImages"] = images
	}
	all, _ := images["digests"].(map[string]any)
	if all == nil {
		all = map[string]any{}
		images["digests"] = all
	}
	moduleDigests := func(moduleKey string) map[string]any {
		digests, _ := all[moduleKey].(map[string]any)
		if digests == nil {
			digests = map[string]any{}
			all[moduleKey] = digests
		}
		return digests
	}
	add := func(moduleKey, image string) {
		digests := moduleDigests(moduleKey)
		if _, ok := digests[image]; !ok {
			digests[image] = values.FakeDigest(moduleKey, image)
		}
	}
	// The module's own section exists even without images, as DKP's does.
	moduleDigests(m.ValuesKey)

	entries, err := os.ReadDir(filepath.Join(m.Dir, "images"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reading images: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			add(m.ValuesKey, strcase.ToCamel(e.Name()))
			add(m.ValuesKey, e.Name())
		}
	}
	refs, err := templateImageRefs(m)
	if err != nil {
		return err
	}
	for _, r := range refs {
		add(r[0], r[1])
	}
	return nil
}

// templateImageRefs lists the {moduleKey, image} pairs the module's own
// templates name literally.
func templateImageRefs(m *Module) ([][2]string, error) {
	var out [][2]string
	root := filepath.Join(m.Dir, "templates")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(data)
		for _, g := range imageHelperRe.FindAllStringSubmatch(text, -1) {
			moduleKey := m.ValuesKey
			switch {
			case g[1] != "":
				moduleKey = "common"
			case g[3] != "":
				moduleKey = strcase.ToCamel(strings.Trim(g[3], `"`))
			}
			out = append(out, [2]string{moduleKey, g[2]})
		}
		for _, g := range digestsPathRe.FindAllStringSubmatch(text, -1) {
			out = append(out, [2]string{g[1], g[2]})
		}
		for _, g := range digestsIndexRe.FindAllStringSubmatch(text, -1) {
			out = append(out, [2]string{g[1], g[2]})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scanning templates for image references: %w", err)
	}
	return out, nil
}
