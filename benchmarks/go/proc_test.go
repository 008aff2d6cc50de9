// The Go side of gort's sysmon and create suites: BenchmarkPingPongHog,
// BenchmarkCreateGoroutines and BenchmarkCreateGoroutinesParallel from Go
// 1.19's runtime/proc_test.go, rewritten here. The TypeScript suites
// (benchmarks/src/suites/sysmon.ts, create.ts) run the same workloads on
// gort.

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

// BenchmarkCreateGoroutines (runtime): one chain of b.N goroutines, each
// starting the next (go f(n - 1)) and exiting; the last reports on a
// channel. One op is one goroutine created, scheduled and run to its end.
// gort's twin is the create suite's 1-chain row (goroutines.ts bench.chain).
func BenchmarkCreateGoroutines(b *testing.B) {
	benchmarkCreateGoroutines(b, 1)
}

// BenchmarkCreateGoroutinesParallel (runtime): one chain per P
// (GOMAXPROCS chains of b.N / GOMAXPROCS goroutines), run at once. gort's
// twin is the create suite's "chains in parallel (one per P)" row.
func BenchmarkCreateGoroutinesParallel(b *testing.B) {
	benchmarkCreateGoroutines(b, runtime.GOMAXPROCS(-1))
}

// benchmarkCreateGoroutines (runtime's, unchanged): starts procs chains of
// b.N / procs goroutines and waits for the end of each.
func benchmarkCreateGoroutines(b *testing.B, procs int) {
	c := make(chan bool)
	var f func(n int)
	f = func(n int) {
		if n == 0 {
			c <- true
			return
		}
		go f(n - 1)
	}
	for i := 0; i < procs; i++ {
		go f(b.N / procs)
	}
	for i := 0; i < procs; i++ {
		<-c
	}
}
