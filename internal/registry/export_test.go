package registry

// SwapDirWith exposes swapDirWith to the external tests.
var SwapDirWith = swapDirWith
