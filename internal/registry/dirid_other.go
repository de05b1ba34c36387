//go:build !unix

package registry

import "io/fs"

// dirID has no portable identity to offer here; the marker's presence decides.
func dirID(fs.FileInfo) string { return "" }
