//go:build !linux

package calllog

// backgroundPriority is a no-op where threads have no nice value of their own.
func backgroundPriority() {}
