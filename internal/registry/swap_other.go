//go:build !linux

package registry

import "errors"

// exchangeDirs has no atomic exchange outside Linux; the caller falls back to
// two renames (old tree moved aside, new tree moved in).
func exchangeDirs(_, _ string) error {
	return errors.New("atomic directory exchange is only available on Linux")
}
