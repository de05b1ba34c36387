package values

import (
	"fmt"
	"regexp"

	"github.com/ettle/strcase"
)

// GlobalKey is the values section shared by all modules.
const GlobalKey = "global"

var kebabName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ModuleKey returns the camelCase values key of a kebab-case module name
// ("echo-server" -> "echoServer"). Like addon-operator, it refuses a name whose
// key does not convert back to the same name, because the runtime finds the
// module again from its key (ConfigMap keys, *Enabled flags).
func ModuleKey(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("module name is empty")
	}
	if !kebabName.MatchString(name) {
		return "", fmt.Errorf("module name %q is not kebab-case (lowercase letters, digits and single dashes)", name)
	}
	key := strcase.ToCamel(name)
	if back := strcase.ToKebab(key); back != name {
		return "", fmt.Errorf("module name %q does not round-trip through its values key %q (back to %q); rename the module", name, key, back)
	}
	return key, nil
}

// EnabledKey is the config key that enables or disables a module ("echoServerEnabled").
func EnabledKey(moduleKey string) string { return moduleKey + "Enabled" }
