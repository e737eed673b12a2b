// Command udploadgen is the load generator of the netkit udp benchmark.
//
// It opens -conns connected UDP sockets to -addr (net.DialUDP, all of them
// before the clock starts), then every socket runs a strict ping-pong loop:
// send one -size byte datagram, wait for the reply, check that it has the
// same length, repeat. The first -warmup is not measured; round trips that
// start after the warm-up and finish within the following -duration are
// counted and their latencies recorded. Finally it prints ONE JSON line:
//
//	{"conns":N,"seconds":S,"roundtrips":R,"rate":R_per_second,"p50_us":..,"p99_us":..,"lost":L}
//
// UDP may drop datagrams, so every wait for a reply has a 200 ms read
// deadline. A wait that times out counts as "lost" (when the request was
// sent inside the measured window) and the loop goes on with the next
// request. Each request carries a sequence number in its first 8 bytes, so
// a reply that arrives after its wait timed out is recognised and discarded
// instead of being taken for the reply to a later request.
//
// Failure handling: a dial failure exits 1 before anything is measured. A
// reply whose length differs from the request is a protocol bug and exits 1
// at once. Any other I/O error (for example "connection refused" once the
// server is gone) ends that socket; the JSON line is still printed, the
// error goes to stderr and the exit status is 1. The run is bounded: no
// request starts after warmup+duration and no wait lasts longer than the
// read deadline.
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"net"
	"os"
	"sort"
	"sync"
	"time"
)

// replyTimeout is how long one wait for a reply may take before the
// datagram is counted as lost.
const replyTimeout = 200 * time.Millisecond

// seqBytes is the length of the sequence number at the start of every
// request; -size must be at least this.
const seqBytes = 8

// maxSamples caps the latency samples kept per socket (16 MB each); beyond
// it a uniform reservoir sample is kept.
const maxSamples = 2000000

// initialSamples is the preallocated capacity per socket.
const initialSamples = 1 << 16

type result struct {
	Conns      int     `json:"conns"`
	Seconds    float64 `json:"seconds"`
	Roundtrips int64   `json:"roundtrips"`
	Rate       float64 `json:"rate"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	Lost       int64   `json:"lost"`
}

// worker holds one socket's state and results. Each worker is touched by
// exactly one goroutine until wg.Wait returns, so no locking is needed.
type worker struct {
	id      int
	conn    *net.UDPConn
	count   int64           // measured round trips
	lost    int64           // measured requests whose reply did not come in time
	stale   int64           // late replies discarded (any time)
	seen    int64           // samples offered to the reservoir
	samples []time.Duration // latency samples (reservoir once full)
	rng     *rand.Rand      // only used once the reservoir is full
	err     error           // I/O error that ended this socket
}

func main() {
	addr := flag.String("addr", "", "UDP address of the server (required)")
	conns := flag.Int("conns", 1, "number of client sockets, each with one datagram in flight")
	duration := flag.Duration("duration", 5*time.Second, "measured duration")
	warmup := flag.Duration("warmup", 1*time.Second, "unmeasured warm-up before the measured duration")
	size := flag.Int("size", 64, "datagram payload bytes")
	flag.Parse()

	switch {
	case *addr == "":
		usage("-addr is required")
	case flag.NArg() != 0:
		usage(fmt.Sprintf("unexpected arguments: %v", flag.Args()))
	case *conns < 1:
		usage("-conns must be >= 1")
	case *duration <= 0:
		usage("-duration must be > 0")
	case *warmup < 0:
		usage("-warmup must be >= 0")
	case *size < seqBytes || *size > 65507:
		usage(fmt.Sprintf("-size must be from %d to 65507", seqBytes))
	}

	raddr, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "udploadgen: resolve %s: %v\n", *addr, err)
		os.Exit(1)
	}
	workers := make([]*worker, *conns)
	for i := range workers {
		c, err := net.DialUDP("udp", nil, raddr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "udploadgen: dial %d of %d: %v\n", i+1, *conns, err)
			for _, w := range workers[:i] {
				w.conn.Close()
			}
			os.Exit(1)
		}
		workers[i] = &worker{
			id:      i,
			conn:    c,
			samples: make([]time.Duration, 0, initialSamples),
			rng:     rand.New(rand.NewSource(int64(i) + 1)),
		}
	}

	start := time.Now()
	measureFrom := start.Add(*warmup)
	end := measureFrom.Add(*duration)

	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			defer w.conn.Close()
			w.run(*size, measureFrom, end)
		}(w)
	}
	wg.Wait()

	res := result{Conns: *conns, Seconds: duration.Seconds()}
	var all []time.Duration
	var stale int64
	failed := false
	for _, w := range workers {
		res.Roundtrips += w.count
		res.Lost += w.lost
		stale += w.stale
		if w.err != nil {
			failed = true
			fmt.Fprintf(os.Stderr, "udploadgen: socket %d: %v\n", w.id, w.err)
		}
		all = append(all, w.samples...)
	}
	if stale > 0 {
		fmt.Fprintf(os.Stderr, "udploadgen: discarded %d late replies\n", stale)
	}
	res.Rate = float64(res.Roundtrips) / res.Seconds
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.P50us = percentileUS(all, 0.50)
	res.P99us = percentileUS(all, 0.99)

	out, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintf(os.Stderr, "udploadgen: encode result: %v\n", err)
		os.Exit(1)
	}
	if _, err := fmt.Fprintln(os.Stdout, string(out)); err != nil {
		fmt.Fprintf(os.Stderr, "udploadgen: write stdout: %v\n", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "udploadgen: %s\n", msg)
	flag.Usage()
	os.Exit(2)
}

// run is one socket's ping-pong loop. It returns when the measurement
// window has ended or on an I/O error other than a timeout (stored in
// w.err). A reply of the wrong length exits the whole process.
func (w *worker) run(size int, measureFrom, end time.Time) {
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = 'x'
	}
	// One byte more than a valid reply, so a longer reply is seen as such
	// instead of being truncated to the right length.
	buf := make([]byte, size+1)
	var seq uint64
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		seq++
		binary.BigEndian.PutUint64(msg, seq)
		if _, err := w.conn.Write(msg); err != nil {
			w.err = fmt.Errorf("write: %w", err)
			return
		}
		if err := w.conn.SetReadDeadline(t0.Add(replyTimeout)); err != nil {
			w.err = fmt.Errorf("set read deadline: %w", err)
			return
		}
		measured := !t0.Before(measureFrom)
		for {
			n, err := w.conn.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					if measured {
						w.lost++
					}
					break
				}
				w.err = fmt.Errorf("read reply: %w", err)
				return
			}
			if n != size {
				fmt.Fprintf(os.Stderr, "udploadgen: socket %d: reply length mismatch: got %d, want %d\n", w.id, n, size)
				os.Exit(1)
			}
			if got := binary.BigEndian.Uint64(buf); got != seq {
				// The late reply to an earlier request whose wait timed
				// out: skip it and keep waiting for this one.
				w.stale++
				continue
			}
			t1 := time.Now()
			// Only round trips entirely inside the measurement window
			// count, so the rate is exactly round trips per -duration.
			if measured && !t1.After(end) {
				w.count++
				w.record(t1.Sub(t0))
			}
			break
		}
	}
}

// record adds a latency sample, switching to reservoir sampling (Algorithm
// R) once maxSamples are held so the kept set stays a uniform sample.
func (w *worker) record(d time.Duration) {
	w.seen++
	if len(w.samples) < maxSamples {
		w.samples = append(w.samples, d)
		return
	}
	if j := w.rng.Int63n(w.seen); j < maxSamples {
		w.samples[j] = d
	}
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
	return math.Round(us*100) / 100 // 10 ns resolution is plenty
}
