#if canImport(Glibc)
import Glibc
#endif
func exitFunction(_ code: Int32) -> Never { exit(code) }
