// The Go side of gort's sysmon suite: BenchmarkPingPongHog from Go 1.19's
// runtime/proc_test.go, rewritten here. The TypeScript suite
// (benchmarks/src/suites/sysmon.ts) runs the same workload on gort.

package gortbench

import (
	"runtime"
	"testing"
)

// BenchmarkPingPongHog (runtime): on a single P, two goroutines bounce a
// token over two unbuffered channels while a third goroutine spins without
// ever blocking, only polling a stop channel. Go's scheduler gives the pair
// a shared time slice (the readied goroutine runs next and inherits it), so
// sysmon's preemption is what lets the spinner in, and what lets the pair
// back. One op is one round trip (ping's hop and pong's hop).
//
// Unlike Go's original, every goroutine reports on a done channel with room
// for all three and the benchmark waits for the three, so no goroutine is
// left blocked behind when it returns; that happens after the timer stops.
func BenchmarkPingPongHog(b *testing.B) {
	if b.N == 0 {
		return
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))

	stop := make(chan bool)
	done := make(chan bool, 3)

	// The hog: never blocks, checks stop without waiting.
	go func() {
		for {
			select {
			case <-stop:
				done <- true
				return
			default:
			}
		}
	}()

	ping, pong := make(chan bool), make(chan bool)
	// Answers b.N pings, then stops the hog.
	go func() {
		for i := 0; i < b.N; i++ {
			pong <- <-ping
		}
		close(stop)
		done <- true
	}()
	// Returns b.N pongs as pings.
	go func() {
		for i := 0; i < b.N; i++ {
			ping <- <-pong
		}
		done <- true
	}()

	b.ResetTimer()
	ping <- true // the first ping
	<-stop
	b.StopTimer()
	<-ping // the last ping of the second goroutine has nobody to answer it
	for i := 0; i < 3; i++ {
		<-done
	}
}
