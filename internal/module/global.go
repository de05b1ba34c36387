package module

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/deckhand-dev/deckhand/internal/values"
)

// Global is a global hooks directory ($GLOBAL_HOOKS_DIR) as the runtime
// sees it: where its hooks are and the schemas of the global values.
type Global struct {
	// Dir is the directory as given, made absolute.
	Dir string
	// HooksDir is where the global hooks are (GlobalHooksDir).
	HooksDir string
	// Schemas are Dir/openapi's config-values.yaml and values.yaml (never
	// nil; fields nil when files are absent).
	Schemas *values.Schemas
}

// GlobalHooksDir is where addon-operator looks for global hooks:
// dir/hooks when that is a directory, else dir itself.
func GlobalHooksDir(dir string) string {
	if hooks := filepath.Join(dir, "hooks"); isDir(hooks) {
		return hooks
	}
	return dir
}

// LoadGlobal reads the global hooks directory dir: GlobalHooksDir and the
// global schemas in dir/openapi (not under hooks/). A missing dir is an
// error wrapping fs.ErrNotExist, for the caller to decide on.
func LoadGlobal(dir string) (*Global, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("global hooks directory %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("global hooks directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("global hooks directory %s is not a directory", abs)
	}
	g := &Global{Dir: abs, HooksDir: GlobalHooksDir(abs)}
	if g.Schemas, err = values.LoadSchemas(filepath.Join(abs, "openapi")); err != nil {
		return nil, fmt.Errorf("global values schemas in %s: %w", abs, err)
	}
	return g, nil
}
