package lint

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/Masterminds/semver/v3"
	"golang.org/x/mod/modfile"
)

const moduleSDKPath = "github.com/deckhouse/module-sdk"

// appRun is how a Go hooks binary starts module-sdk ("app.Run(").
var appRun = regexp.MustCompile(`\w+\.Run\(`)

// sdkUse says what module/requirements learns from the Go modules under
// hooks/: goMod names a go.mod requiring module-sdk whose Go files call
// app.Run (Go hooks); v03 names one requiring module-sdk >= 0.3.0.
type sdkUse struct {
	goHooks bool
	goMod   string
	v03     string
}

func moduleSDKUse(dir string) sdkUse {
	var use sdkUse
	hooks := filepath.Join(dir, "hooks")
	_ = filepath.WalkDir(hooks, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 || d.IsDir() || d.Name() != "go.mod" {
			return nil
		}
		v := moduleSDKVersion(p)
		if v == nil {
			return nil
		}
		rel := relTo(dir, p)
		if use.v03 == "" && !v.LessThan(semver.MustParse("0.3.0")) {
			use.v03 = rel
		}
		if !use.goHooks && callsAppRun(filepath.Dir(p)) {
			use.goHooks, use.goMod = true, rel
		}
		return nil
	})
	return use
}

// moduleSDKVersion is the module-sdk version a go.mod requires, nil if none.
func moduleSDKVersion(goMod string) *semver.Version {
	data, err := os.ReadFile(goMod)
	if err != nil {
		return nil
	}
	f, err := modfile.Parse(goMod, data, nil)
	if err != nil {
		return nil
	}
	for _, r := range f.Require {
		if r.Mod.Path == moduleSDKPath {
			if v, err := semver.NewVersion(r.Mod.Version); err == nil {
				return v
			}
		}
	}
	return nil
}

func callsAppRun(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found || d.Type()&fs.ModeSymlink != 0 || d.IsDir() || filepath.Ext(p) != ".go" {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil && appRun.Match(data) {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return found
}
