// Command rpcload is the Go load generator of netkit's rpc benchmark.
//
// It dials ONE connection to -addr, wraps it in Go's own net/rpc client
// (rpc.NewClient for -codec gob, jsonrpc.NewClient for -codec json), and
// runs -inflight goroutines that each call Arith.Multiply(Args{7, 8}) in a
// loop, so exactly -inflight calls are in flight on that connection at any
// time, multiplexed by net/rpc's sequence numbers. Every reply must be 56.
//
// The first -warmup is not measured; calls that start after the warm-up and
// finish within the following -duration are counted and their latencies
// recorded. Finally it prints ONE JSON line:
//
//	{"codec":"gob","inflight":N,"calls":C,"seconds":S,"rate":R,"p50_us":..,"p99_us":..,
//	 "errors":E,"client_cpu_us":X}
//
// client_cpu_us is this process's user+system CPU (getrusage) over the
// measured window divided by the measured calls, or -1 if unavailable.
//
// Failure handling: a dial failure exits 1 before anything is measured. A
// call that fails (server error, I/O error) or returns anything but 56 ends
// its goroutine and counts in "errors"; the JSON line is still printed and
// the exit status is 1. The run is bounded: the connection's deadline is
// warmup+duration+2s, which fails every call still pending then, and a
// watchdog exits 1 a few seconds after that if anything is still stuck.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"
)

// maxSamples caps the latency samples kept in all (16 MB); each goroutine
// keeps a uniform reservoir of its share.
const maxSamples = 2000000

// graceAfterEnd is how long past the measurement window a call in flight
// may take before the connection deadline fails it.
const graceAfterEnd = 2 * time.Second

// Args are Arith's arguments, as in the net/rpc documentation.
type Args struct {
	A, B int
}

const wantReply = 56

type result struct {
	Codec       string  `json:"codec"`
	Inflight    int     `json:"inflight"`
	Calls       int64   `json:"calls"`
	Seconds     float64 `json:"seconds"`
	Rate        float64 `json:"rate"`
	P50us       float64 `json:"p50_us"`
	P99us       float64 `json:"p99_us"`
	Errors      int     `json:"errors"`
	ClientCPUus float64 `json:"client_cpu_us"`
}

// worker is one calling goroutine's state; only that goroutine touches it
// until wg.Wait returns.
type worker struct {
	id      int
	count   int64
	seen    int64
	max     int
	samples []time.Duration
	rng     *rand.Rand
	err     error
}

func main() {
	addr := flag.String("addr", "", "TCP address of the server (required)")
	codec := flag.String("codec", "gob", "gob (net/rpc) or json (net/rpc/jsonrpc)")
	inflight := flag.Int("inflight", 1, "calls in flight on the one connection")
	duration := flag.Duration("duration", 5*time.Second, "measured duration")
	warmup := flag.Duration("warmup", 1*time.Second, "unmeasured warm-up before the measured duration")
	flag.Parse()

	switch {
	case *addr == "":
		usage("-addr is required")
	case flag.NArg() != 0:
		usage(fmt.Sprintf("unexpected arguments: %v", flag.Args()))
	case *codec != "gob" && *codec != "json":
		usage("-codec must be gob or json")
	case *inflight < 1:
		usage("-inflight must be >= 1")
	case *duration <= 0:
		usage("-duration must be > 0")
	case *warmup < 0:
		usage("-warmup must be >= 0")
	}

	conn, err := net.DialTimeout("tcp", *addr, 5*time.Second)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rpcload: dial: %v\n", err)
		os.Exit(1)
	}
	var client *rpc.Client
	if *codec == "json" {
		client = jsonrpc.NewClient(conn)
	} else {
		client = rpc.NewClient(conn)
	}

	start := time.Now()
	measureFrom := start.Add(*warmup)
	end := measureFrom.Add(*duration)
	// The deadline bounds the run if the server stalls: every pending call
	// fails when it passes.
	if err := conn.SetDeadline(end.Add(graceAfterEnd)); err != nil {
		fmt.Fprintf(os.Stderr, "rpcload: set deadline: %v\n", err)
		os.Exit(1)
	}
	time.AfterFunc(time.Until(end.Add(graceAfterEnd+3*time.Second)), func() {
		fmt.Fprintln(os.Stderr, "rpcload: calls still pending 5 s after the window; giving up")
		os.Exit(1)
	})

	// Client CPU over the measured window.
	cpuDone := make(chan float64, 1)
	go func() {
		time.Sleep(time.Until(measureFrom))
		c0, ok0 := cpuTime()
		time.Sleep(time.Until(end))
		c1, ok1 := cpuTime()
		if !ok0 || !ok1 {
			cpuDone <- -1
			return
		}
		cpuDone <- float64(c1-c0) / float64(time.Microsecond)
	}()

	perWorker := maxSamples / *inflight
	if perWorker < 1 {
		perWorker = 1
	}
	workers := make([]*worker, *inflight)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{
			id:      i,
			max:     perWorker,
			samples: make([]time.Duration, 0, minInt(perWorker, 1<<14)),
			rng:     rand.New(rand.NewSource(int64(i) + 1)),
		}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(client, measureFrom, end)
		}()
	}
	wg.Wait()
	cpuUs := <-cpuDone
	client.Close()

	res := result{Codec: *codec, Inflight: *inflight, Seconds: duration.Seconds(), ClientCPUus: -1}
	var all []time.Duration
	for _, w := range workers {
		res.Calls += w.count
		if w.err != nil {
			res.Errors++
			fmt.Fprintf(os.Stderr, "rpcload: caller %d: %v\n", w.id, w.err)
		}
		all = append(all, w.samples...)
	}
	res.Rate = float64(res.Calls) / res.Seconds
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.P50us = percentileUS(all, 0.50)
	res.P99us = percentileUS(all, 0.99)
	if cpuUs >= 0 && res.Calls > 0 {
		res.ClientCPUus = math.Round(cpuUs/float64(res.Calls)*100) / 100
	}

	out, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rpcload: encode result: %v\n", err)
		os.Exit(1)
	}
	if _, err := fmt.Fprintln(os.Stdout, string(out)); err != nil {
		fmt.Fprintf(os.Stderr, "rpcload: write stdout: %v\n", err)
		os.Exit(1)
	}
	if res.Errors > 0 {
		os.Exit(1)
	}
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "rpcload: %s\n", msg)
	flag.Usage()
	os.Exit(2)
}

func minInt(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// run is one caller's loop: call, check, record, until the window ends or
// a call fails.
func (w *worker) run(client *rpc.Client, measureFrom, end time.Time) {
	args := &Args{A: 7, B: 8}
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		var reply int
		if err := client.Call("Arith.Multiply", args, &reply); err != nil {
			w.err = fmt.Errorf("Arith.Multiply: %w", err)
			return
		}
		if reply != wantReply {
			w.err = fmt.Errorf("Arith.Multiply(7, 8) returned %d, want %d", reply, wantReply)
			return
		}
		t1 := time.Now()
		// Only calls entirely inside the measurement window count, so the
		// rate is exactly calls per -duration.
		if !t0.Before(measureFrom) && !t1.After(end) {
			w.count++
			w.record(t1.Sub(t0))
		}
	}
}

// record adds a latency sample, switching to reservoir sampling
// (Algorithm R) once w.max samples are held.
func (w *worker) record(d time.Duration) {
	w.seen++
	if len(w.samples) < w.max {
		w.samples = append(w.samples, d)
		return
	}
	if j := w.rng.Int63n(w.seen); j < int64(w.max) {
		w.samples[j] = d
	}
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// percentileUS returns the nearest-rank percentile of sorted, in
// microseconds (0 when there are no samples).
func percentileUS(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	us := float64(sorted[i]) / float64(time.Microsecond)
	return math.Round(us*100) / 100
}
