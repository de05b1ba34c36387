package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"
)

// DefaultChartVersion is the version given to a chart synthesized for a module without Chart.yaml.
const DefaultChartVersion = "0.0.1"

// LoadChart loads the chart in dir. A module may leave out Chart.yaml (DKP
// generates one); then a chart named name is synthesized in memory, the
// directory is read honouring .helmignore, and nothing is written to disk.
func LoadChart(dir, name string) (*chart.Chart, error) {
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err == nil {
		c, err := loader.LoadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("loading chart %s: %w", dir, err)
		}
		return c, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, "Chart.yaml"), err)
	}
	files, err := readChartFiles(dir)
	if err != nil {
		return nil, err
	}
	meta := fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, DefaultChartVersion)
	files = append(files, &archive.BufferedFile{Name: "Chart.yaml", Data: []byte(meta)})
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s (generated Chart.yaml): %w", dir, err)
	}
	return c, nil
}

// moduleIgnores are the module parts that are never chart files, whatever
// .helmignore says: hook binaries and schemas would only bloat the release
// record (DKP's module template ignores them the same way).
const moduleIgnores = "hooks/\nimages/\nopenapi/\ncrds/\ndocs/\ntests/\nenabled\n.git/\n"

// LoadModuleChart loads a module's chart for installing: like LoadChart,
// with the module's hooks, images, schemas, CRDs, docs and tests left out
// even when .helmignore does not list them.
func LoadModuleChart(dir, name string) (*chart.Chart, error) {
	files, err := readChartFilesIgnoring(dir, moduleIgnores)
	if err != nil {
		return nil, err
	}
	if !fileExists(filepath.Join(dir, "Chart.yaml")) {
		meta := fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, DefaultChartVersion)
		files = append(files, &archive.BufferedFile{Name: "Chart.yaml", Data: []byte(meta)})
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", dir, err)
	}
	return c, nil
}

func readChartFiles(dir string) ([]*archive.BufferedFile, error) {
	return readChartFilesIgnoring(dir, "")
}

func readChartFilesIgnoring(dir, extra string) ([]*archive.BufferedFile, error) {
	// A module directory may be a symlink (addon-operator's MODULES_DIR
	// allows it); walk what it points at.
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved
	}
	var text []byte
	if ifile := filepath.Join(dir, ignore.HelmIgnore); fileExists(ifile) {
		data, err := os.ReadFile(ifile)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", ifile, err)
		}
		text = data
	}
	rules, err := ignore.Parse(bytes.NewReader(append(append(text, '\n'), extra...)))
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filepath.Join(dir, ignore.HelmIgnore), err)
	}
	rules.AddDefaults()
	var files []*archive.BufferedFile
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(rel, fi) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !fi.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		files = append(files, &archive.BufferedFile{Name: rel, ModTime: fi.ModTime(), Data: bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading chart files in %s: %w", dir, err)
	}
	return files, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
