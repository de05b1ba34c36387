//go:build linux

package registry

import "golang.org/x/sys/unix"

// exchangeDirs swaps a and b atomically with renameat2(RENAME_EXCHANGE). It
// fails on filesystems without that flag; the caller then falls back to two
// renames.
func exchangeDirs(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}
