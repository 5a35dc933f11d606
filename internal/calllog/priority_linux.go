package calllog

import (
	"runtime"
	"syscall"
)

// backgroundPriority pins the calling goroutine to its OS thread and gives
// that thread the lowest CPU priority (nice 19). The batch writer runs there:
// SQLite executes inside this process, and at full priority a 500-row batch
// holds a CPU for milliseconds at a stretch, which the requests queued behind
// it see as tail latency (p99 of 17 ms at half of peak throughput on one
// core, against 3 ms at nice 19: docs/benchmarks.md). At nice 19 the kernel
// runs the writer whenever request threads leave the CPU idle and preempts
// it when they need it. Linux applies nice per thread, so the rest of the
// process keeps its priority. Failure only costs latency, so it is ignored.
func backgroundPriority() {
	runtime.LockOSThread()
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
}
