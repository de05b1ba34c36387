package testenv

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WriteFiles writes files (slash path -> content) under dir, creating the
// directories on the way; a *.sh file is executable (0755), any other is 0644.
func WriteFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(rel, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// File is one regular file read by ReadFiles.
type File struct {
	Content string
	Mode    fs.FileMode
}

// Executable reports whether any execute bit of f is set.
func (f File) Executable() bool { return f.Mode.Perm()&0o111 != 0 }

// ReadFiles reads every regular file under dir (hidden ones included) by
// slash path. Any entry other than a directory or a regular file (a symlink,
// a socket) fails the test.
func ReadFiles(t testing.TB, dir string) map[string]File {
	t.Helper()
	out := map[string]File{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			t.Errorf("%s: %s is a %v, not a regular file", dir, rel, info.Mode().Type())
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = File{Content: string(data), Mode: info.Mode()}
		return nil
	})
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	return out
}

// ModuleName is prefix followed by the random tail of a test namespace,
// digits turned into letters: a module name (cluster-wide objects are
// named after it) that round-trips through its camelCase values key and
// differs between tests sharing an API server.
func ModuleName(prefix, ns string) string {
	tail := ns
	if len(tail) > 5 {
		tail = tail[len(tail)-5:]
	}
	return prefix + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'a' + r - '0'
		}
		return r
	}, tail)
}

// FreeAddr returns a loopback host:port free at the time of the call.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}
