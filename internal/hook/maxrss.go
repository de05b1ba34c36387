package hook

// asInt64 widens a platform's rusage field (int32 on 32-bit systems, int64
// elsewhere).
func asInt64[T ~int32 | ~int64](v T) int64 { return int64(v) }
