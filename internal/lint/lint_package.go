package lint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"

	"github.com/deckhand-dev/deckhand/internal/module"
)

// packageFile is the module package manifest newer DKP versions read
// alongside module.yaml.
const packageFile = "package.yaml"

type packageRequirement struct {
	Name       string `json:"name"`
	Constraint string `json:"constraint"`
}

type packageManifest struct {
	APIVersion   string `json:"apiVersion"`
	Name         string `json:"name"`
	Requirements *struct {
		Kubernetes struct {
			Constraint string `json:"constraint"`
		} `json:"kubernetes"`
		Deckhouse struct {
			Constraint string `json:"constraint"`
		} `json:"deckhouse"`
		Modules struct {
			Mandatory   []packageRequirement `json:"mandatory"`
			Conditional []packageRequirement `json:"conditional"`
			AnyOf       []struct {
				Modules []packageRequirement `json:"modules"`
			} `json:"anyOf"`
		} `json:"modules"`
	} `json:"requirements"`
}

// lintPackage runs module/package-yaml and module/module-package-consistency.
func lintPackage(c *collector, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, packageFile))
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	var pkg packageManifest
	if err == nil {
		err = yaml.Unmarshal(data, &pkg)
	}
	if err != nil {
		// dmt reports it under both rules, as each reads the file.
		c.add(LinterModule, "package-yaml", packageFile, 0, "reading package.yaml: %v", err)
		c.add(LinterModule, "module-package-consistency", packageFile, 0, "reading package.yaml: %v", err)
		return
	}
	doc, _ := module.ParseDocument(data)
	lintPackageYAML(c, &pkg, doc)
	lintPackageConsistency(c, dir, &pkg, doc)
}

// lintPackageYAML: apiVersion and name are set, every constraint parses,
// and the new requirements schema (kubernetes or modules) comes with a
// deckhouse constraint starting at 1.77, the first DKP that reads it.
func lintPackageYAML(c *collector, pkg *packageManifest, doc *module.Document) {
	add := func(field, format string, args ...any) {
		c.add(LinterModule, "package-yaml", packageFile, doc.Line(field), format, args...)
	}
	if pkg.APIVersion == "" {
		add("apiVersion", "apiVersion is required")
	}
	if pkg.Name == "" {
		add("name", "name is required")
	}
	r := pkg.Requirements
	if r == nil {
		return
	}
	check := func(field, constraint string) {
		if constraint == "" {
			return
		}
		if _, err := semver.NewConstraint(constraint); err != nil {
			add(field, "%s %q is not a semver constraint: %v", field, constraint, err)
		}
	}
	check("requirements.kubernetes.constraint", r.Kubernetes.Constraint)
	check("requirements.deckhouse.constraint", r.Deckhouse.Constraint)
	for i, m := range r.Modules.Mandatory {
		check(fmt.Sprintf("requirements.modules.mandatory[%d].constraint", i), m.Constraint)
	}
	for i, m := range r.Modules.Conditional {
		check(fmt.Sprintf("requirements.modules.conditional[%d].constraint", i), m.Constraint)
	}
	for i, g := range r.Modules.AnyOf {
		for j, m := range g.Modules {
			check(fmt.Sprintf("requirements.modules.anyOf[%d].modules[%d].constraint", i, j), m.Constraint)
		}
	}
	newSchema := r.Kubernetes.Constraint != "" || len(r.Modules.Mandatory) > 0 || len(r.Modules.Conditional) > 0 || len(r.Modules.AnyOf) > 0
	if !newSchema {
		return
	}
	dkp := r.Deckhouse.Constraint
	if dkp == "" {
		add("requirements", "requirements.deckhouse.constraint is required with kubernetes or modules requirements, starting no lower than 1.77.0 (the first DKP that reads them)")
		return
	}
	cons, err := semver.NewConstraint(dkp)
	if err != nil {
		return // reported above
	}
	if lo := minimalAllowed(cons); lo == nil {
		add("requirements.deckhouse.constraint", "requirements.deckhouse.constraint must start no lower than 1.77.0 (the first DKP that reads kubernetes and modules requirements)")
	} else if lo.LessThan(semver.MustParse("1.77.0")) {
		add("requirements.deckhouse.constraint", "requirements.deckhouse.constraint starts at %s: it must start no lower than 1.77.0 (the first DKP that reads kubernetes and modules requirements)", lo)
	}
}

// definitionRequirements is the part of module.yaml package.yaml repeats.
type definitionRequirements struct {
	Name         string `json:"name"`
	Requirements *struct {
		Deckhouse  string            `json:"deckhouse"`
		Kubernetes string            `json:"kubernetes"`
		Modules    map[string]string `json:"modules"`
	} `json:"requirements"`
}

// lintPackageConsistency: when a module has both module.yaml and
// package.yaml, the name, deckhouse and kubernetes constraints and module
// requirements (module.yaml's "!optional" = package.yaml's conditional) agree.
func lintPackageConsistency(c *collector, dir string, pkg *packageManifest, pdoc *module.Document) {
	data, err := os.ReadFile(filepath.Join(dir, module.DefinitionFile))
	if err != nil {
		return // no module.yaml: nothing to compare (definition-file reports it)
	}
	var def definitionRequirements
	if yaml.Unmarshal(data, &def) != nil {
		return // definition-file reports it
	}
	mdoc, _ := module.ParseDocument(data)
	onDef := func(field, format string, args ...any) {
		c.add(LinterModule, "module-package-consistency", module.DefinitionFile, mdoc.Line(field), format, args...)
	}
	onPkg := func(field, format string, args ...any) {
		c.add(LinterModule, "module-package-consistency", packageFile, pdoc.Line(field), format, args...)
	}
	if def.Name != "" && def.Name != pkg.Name {
		onDef("name", "module.yaml name %q differs from package.yaml name %q", def.Name, pkg.Name)
	}
	req := def.Requirements
	for _, k := range []string{"deckhouse", "kubernetes"} {
		if req == nil {
			break
		}
		mine := req.Deckhouse
		if k == "kubernetes" {
			mine = req.Kubernetes
		}
		if mine = strings.TrimSpace(mine); mine == "" {
			continue
		}
		field := "requirements." + k
		switch {
		case pkg.Requirements == nil:
			onDef(field, "module.yaml %s is %q but package.yaml has no requirements", field, mine)
		case pkgConstraint(pkg, k) == "":
			onDef(field, "module.yaml %s is %q but package.yaml %s.constraint is empty", field, mine, field)
		case pkgConstraint(pkg, k) != mine:
			onDef(field, "module.yaml %s %q differs from package.yaml %s.constraint %q", field, mine, field, pkgConstraint(pkg, k))
		}
	}
	lintPackageModules(req == nil || len(req.Modules) == 0, func() map[string]string {
		if req == nil {
			return nil
		}
		return req.Modules
	}(), pkg, onDef, onPkg)
}

func pkgConstraint(pkg *packageManifest, key string) string {
	if key == "deckhouse" {
		return strings.TrimSpace(pkg.Requirements.Deckhouse.Constraint)
	}
	return strings.TrimSpace(pkg.Requirements.Kubernetes.Constraint)
}

func lintPackageModules(none bool, modules map[string]string, pkg *packageManifest, onDef, onPkg func(string, string, ...any)) {
	if none {
		if pkg.Requirements == nil {
			return
		}
		for _, m := range pkg.Requirements.Modules.Mandatory {
			onPkg("requirements.modules.mandatory", "package.yaml module %q is mandatory but module.yaml has no requirements.modules", m.Name)
		}
		for _, m := range pkg.Requirements.Modules.Conditional {
			onPkg("requirements.modules.conditional", "package.yaml module %q is conditional but module.yaml has no requirements.modules", m.Name)
		}
		return
	}
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	if pkg.Requirements == nil {
		for _, n := range names {
			onDef("requirements.modules."+n, "module.yaml requires module %q but package.yaml has no requirements", n)
		}
		return
	}
	mandatory, optional := map[string]string{}, map[string]string{}
	for _, n := range names {
		v := strings.TrimSpace(modules[n])
		if strings.Contains(v, "!optional") {
			optional[n] = strings.TrimSpace(strings.ReplaceAll(v, "!optional", ""))
		} else {
			mandatory[n] = v
		}
	}
	pkgMand, pkgCond := map[string]string{}, map[string]string{}
	var pkgMandNames, pkgCondNames []string
	for _, m := range pkg.Requirements.Modules.Mandatory {
		pkgMand[m.Name] = strings.TrimSpace(m.Constraint)
		pkgMandNames = append(pkgMandNames, m.Name)
	}
	for _, m := range pkg.Requirements.Modules.Conditional {
		pkgCond[m.Name] = strings.TrimSpace(m.Constraint)
		pkgCondNames = append(pkgCondNames, m.Name)
	}
	for _, n := range names {
		field := "requirements.modules." + n
		if v, ok := mandatory[n]; ok {
			p, inMand := pkgMand[n]
			_, inCond := pkgCond[n]
			switch {
			case !inMand && inCond:
				onDef(field, "module.yaml module %q is mandatory but package.yaml lists it as conditional", n)
			case !inMand:
				onDef(field, "module.yaml module %q is mandatory but missing from package.yaml requirements.modules.mandatory", n)
			case p != v:
				onDef(field, "module.yaml module %q constraint %q differs from package.yaml's %q", n, v, p)
			}
			continue
		}
		v := optional[n]
		p, inCond := pkgCond[n]
		_, inMand := pkgMand[n]
		switch {
		case !inCond && inMand:
			onDef(field, "module.yaml module %q is optional but package.yaml lists it as mandatory", n)
		case !inCond:
			onDef(field, "module.yaml module %q is optional but missing from package.yaml requirements.modules.conditional", n)
		case p != v:
			onDef(field, "module.yaml module %q constraint %q differs from package.yaml's %q", n, v, p)
		}
	}
	for _, n := range pkgMandNames {
		if _, ok := modules[n]; !ok {
			onPkg("requirements.modules.mandatory", "package.yaml module %q is mandatory but missing from module.yaml requirements.modules", n)
		}
	}
	for _, n := range pkgCondNames {
		if _, ok := modules[n]; !ok {
			onPkg("requirements.modules.conditional", "package.yaml module %q is conditional but missing from module.yaml requirements.modules", n)
		}
	}
}
