// The Go side of gort's chan, select and mutex suites: Go's own channel and
// mutex benchmarks (runtime/chan_test.go and sync/mutex_test.go, Go 1.19),
// rewritten here with the same workloads and the same names, plus two of
// this project's (PingPongOneP, BufferedNumbers). benchmarks/src/go.ts runs
// them with `go test -run '^$' -bench ... -cpu N` and reads ns/op; the
// TypeScript suites run the same workloads on gort.
//
// As in Go's originals, one op of a RunParallel benchmark is one pb.Next()
// iteration, and ns/op is the wall time over b.N, summed over all the
// goroutines running in parallel.

package gortbench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// batch is Go's CallsPerSched: goroutines claim work 1000 ops at a time.
const batch = 1000

// BenchmarkChanSync (runtime): two goroutines pass a token through one
// unbuffered channel. Each claims batches of 1000 exchanges; on an even
// batch it receives first and then sends, on an odd batch the other way
// round, so the two always pair up. One op is one send (and its receive).
func BenchmarkChanSync(b *testing.B) {
	const workers = 2
	left := int32(b.N / batch / workers * workers)
	done := make(chan bool, workers)
	c := make(chan int)
	for w := 0; w < workers; w++ {
		go func() {
			for {
				k := atomic.AddInt32(&left, -1)
				if k < 0 {
					break
				}
				for j := 0; j < batch; j++ {
					if k%2 == 0 {
						<-c
						c <- 0
					} else {
						c <- 0
						<-c
					}
				}
			}
			done <- true
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
}

// prodCons is Go's benchmarkChanProdCons without the local work: one
// producer and one consumer per P share a channel of the given capacity.
// Producers claim batches of 1000 sends; each producer ends with a 0, which
// stops one consumer. One op is one value through the channel.
func prodCons(b *testing.B, capacity int) {
	procs := runtime.GOMAXPROCS(0)
	left := int32(b.N / batch)
	done := make(chan bool, 2*procs)
	c := make(chan int, capacity)
	for p := 0; p < procs; p++ {
		go func() {
			for atomic.AddInt32(&left, -1) >= 0 {
				for j := 0; j < batch; j++ {
					c <- 1
				}
			}
			c <- 0
			done <- true
		}()
		go func() {
			for <-c != 0 {
			}
			done <- true
		}()
	}
	for p := 0; p < 2*procs; p++ {
		<-done
	}
}

func BenchmarkChanProdCons0(b *testing.B)   { prodCons(b, 0) }
func BenchmarkChanProdCons10(b *testing.B)  { prodCons(b, 10) }
func BenchmarkChanProdCons100(b *testing.B) { prodCons(b, 100) }

// BenchmarkChanUncontended (runtime): every parallel goroutine fills its own
// channel of 100 and drains it again. One op is 100 sends and 100 receives.
func BenchmarkChanUncontended(b *testing.B) {
	const n = 100
	b.RunParallel(func(pb *testing.PB) {
		own := make(chan int, n)
		for pb.Next() {
			for i := 0; i < n; i++ {
				own <- 0
			}
			for i := 0; i < n; i++ {
				<-own
			}
		}
	})
}

// BenchmarkChanContended (runtime): the same, but all the parallel
// goroutines share one channel, big enough (100 per P) that none blocks.
func BenchmarkChanContended(b *testing.B) {
	const n = 100
	shared := make(chan int, n*runtime.GOMAXPROCS(0))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for i := 0; i < n; i++ {
				shared <- 0
			}
			for i := 0; i < n; i++ {
				<-shared
			}
		}
	})
}

// BenchmarkSelectUncontended (runtime): every parallel goroutine owns two
// channels of capacity 1 and a token in one of them; each op is a select
// that takes the token from whichever holds it and puts it in the other.
func BenchmarkSelectUncontended(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		x := make(chan int, 1)
		y := make(chan int, 1)
		x <- 0
		for pb.Next() {
			select {
			case <-x:
				y <- 0
			case <-y:
				x <- 0
			}
		}
	})
}

// BenchmarkSelectSyncContended (runtime): three unbuffered channels shared by
// everyone. Each parallel goroutine starts a helper that sends on whichever
// of the three is ready (until done is closed) and itself receives from
// whichever is ready. One op is one such receiving select.
func BenchmarkSelectSyncContended(b *testing.B) {
	c1 := make(chan int)
	c2 := make(chan int)
	c3 := make(chan int)
	done := make(chan int)
	b.RunParallel(func(pb *testing.PB) {
		go func() {
			for {
				select {
				case c1 <- 0:
				case c2 <- 0:
				case c3 <- 0:
				case <-done:
					return
				}
			}
		}()
		for pb.Next() {
			select {
			case <-c1:
			case <-c2:
			case <-c3:
			}
		}
	})
	close(done)
}

// BenchmarkMutex (sync): all parallel goroutines lock and unlock one mutex,
// with no work in between. One op is a Lock and an Unlock.
func BenchmarkMutex(b *testing.B) {
	var mu sync.Mutex
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			mu.Unlock()
		}
	})
}

// BenchmarkPingPongOneP (this project's): two goroutines bounce a value over
// two unbuffered channels. Run with -cpu 1, both share the only P. One op is
// one round trip: ping's send and pong's reply.
func BenchmarkPingPongOneP(b *testing.B) {
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- i
		if <-pong != i+1 {
			b.Fatal("pong answered the wrong value")
		}
	}
	b.StopTimer()
	close(ping)
	<-pong
}

// BenchmarkBufferedNumbers (this project's): one producer sends 0..b.N-1 on a
// channel of 1024 ints and one consumer receives and sums them. Run with
// -cpu 2. One op is one number through the channel.
func BenchmarkBufferedNumbers(b *testing.B) {
	c := make(chan int, 1024)
	sum := make(chan int)
	go func() {
		s := 0
		for v := range c {
			s += v
		}
		sum <- s
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c <- i
	}
	close(c)
	if got, want := <-sum, b.N*(b.N-1)/2; got != want {
		b.Fatalf("consumer summed %d, want %d", got, want)
	}
}
