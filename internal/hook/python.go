package hook

import (
	"os"
	"path/filepath"
)

// PythonVenvDir is the directory in a module's hooks dir holding the
// Python virtual environment its *.py hooks run with (addon-operator's
// "hooks/venv"). Module hook discovery never descends into it.
const PythonVenvDir = "venv"

// EnvPythonHome points a venv's interpreter at its own prefix.
const EnvPythonHome = "PYTHONHOME"

// pythonBinary is the interpreter inside a venv.
var pythonBinary = filepath.Join("bin", "python3")

// PythonVenv returns hooksDir/venv when hooksDir/venv/bin/python3 is an
// executable file, else "".
func PythonVenv(hooksDir string) string {
	venv := filepath.Join(hooksDir, PythonVenvDir)
	info, err := os.Stat(filepath.Join(venv, pythonBinary))
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return ""
	}
	return venv
}
