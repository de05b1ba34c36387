//go:build unix

package registry

import (
	"fmt"
	"io/fs"
	"syscall"
)

// dirID is device:inode of a directory; a rename keeps it.
func dirID(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d", uint64(st.Dev), uint64(st.Ino)) //nolint:unconvert // Dev and Ino differ in type between unix systems
}
