// The Go side of gort's scale suite (benchmarks/src/suites/scale.ts): the
// same programs, one measurement per process so that memory deltas start
// clean. The suite builds it (`go build ./scale`), runs it with `-mode park`
// or `-mode chans` and reads the one JSON line it prints.
//
//	park:  the main goroutine starts n goroutines that each park on a
//	       receive from one unbuffered channel (`go func() { <-c }()`), waits
//	       until all have started, measures memory, closes the channel and
//	       waits until all have returned.
//	chans: makes n channels of the given capacity and keeps them in a slice.
//
// Memory is read after runtime.GC(), before and after, from
// runtime.MemStats (Sys: everything Go has taken from the OS; StackInuse:
// goroutine stacks; HeapInuse: spans with objects, where the g structs and
// sudogs live) and the process's resident set (/proc/self/statm).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

type mem struct {
	Sys        uint64 `json:"sys"`
	StackInuse uint64 `json:"stackInuse"`
	HeapInuse  uint64 `json:"heapInuse"`
	HeapAlloc  uint64 `json:"heapAlloc"`
	RSS        uint64 `json:"rss"`
}

func readMem() mem {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return mem{Sys: ms.Sys, StackInuse: ms.StackInuse, HeapInuse: ms.HeapInuse, HeapAlloc: ms.HeapAlloc, RSS: rss()}
}

// rss is the resident set in bytes (Linux), or 0.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// park: n goroutines parked on one channel; spawn, memory, wake.
func park(n int) map[string]any {
	c := make(chan int)
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	before := readMem()
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-c
			finished.Done()
		}()
	}
	started.Wait()
	spawn := time.Since(t0)
	after := readMem()
	t1 := time.Now()
	close(c)
	finished.Wait()
	wake := time.Since(t1)
	return map[string]any{
		"mode": "park", "n": n, "gomaxprocs": runtime.GOMAXPROCS(0), "go": runtime.Version(),
		"spawnMs": ms(spawn), "wakeMs": ms(wake), "before": before, "after": after,
	}
}

// chans: n live channels of capacity cap.
func chans(n, capacity int) map[string]any {
	before := readMem()
	t0 := time.Now()
	held := make([]chan int, n)
	for i := range held {
		held[i] = make(chan int, capacity)
	}
	made := time.Since(t0)
	after := readMem()
	runtime.KeepAlive(held)
	return map[string]any{
		"mode": "chans", "n": n, "cap": capacity, "go": runtime.Version(),
		"makeMs": ms(made), "before": before, "after": after,
	}
}

func main() {
	mode := flag.String("mode", "park", "park or chans")
	n := flag.Int("n", 1_000_000, "goroutines (park) or channels (chans)")
	capacity := flag.Int("cap", 0, "channel capacity (chans)")
	flag.Parse()
	var out map[string]any
	switch *mode {
	case "park":
		out = park(*n)
	case "chans":
		out = chans(*n, *capacity)
	default:
		fmt.Fprintf(os.Stderr, "scale: unknown mode %q\n", *mode)
		os.Exit(2)
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
