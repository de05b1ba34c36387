package main

import (
	"github.com/spf13/pflag"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// bindSettingsFlags adds Helm's values flags for module settings to fs. They
// apply in Helm's order whatever their order on the command line: -f files,
// then --set-json, --set, --set-string, --set-file, --set-literal.
func bindSettingsFlags(fs *pflag.FlagSet, r *module.Render) {
	fs.StringArrayVarP(&r.SettingsFiles, "values", "f", nil, "YAML file with module settings (repeatable)")
	fs.StringArrayVar(&r.Set, "set", nil, "set a setting: key=value, Helm --set syntax (repeatable)")
	fs.StringArrayVar(&r.SetString, "set-string", nil, "set a setting to a string: key=value, never read as a number or boolean (repeatable)")
	fs.StringArrayVar(&r.SetJSON, "set-json", nil, "set a setting to a JSON value: key=JSON, or a whole JSON object (repeatable)")
	fs.StringArrayVar(&r.SetFile, "set-file", nil, "set a setting to a file's content: key=PATH (repeatable)")
	fs.StringArrayVar(&r.SetLiteral, "set-literal", nil, "set a setting to a literal string: key=value, no escapes or commas parsed (repeatable)")
}
