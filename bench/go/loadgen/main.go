// Command loadgen is the load generator used by every netkit TCP benchmark.
//
// It opens -conns connections to -addr (all of them before the clock
// starts), then every connection runs a strict ping-pong loop: write one
// message, read exactly one reply, check that the reply has the same length
// as the message, repeat. The first -warmup is not measured; round trips
// that start after the warm-up and finish within the following -duration are
// counted and their latencies recorded. Finally it prints ONE JSON line:
//
//	{"conns":N,"seconds":S,"roundtrips":R,"rate":R_per_second,"p50_us":..,"p99_us":..,"errors":E}
//
// Framing (-frame):
//
//	line   message is -size bytes: (size-1) 'x' bytes and a trailing '\n';
//	       the reply is read up to '\n'.
//	len32  a 4-byte big-endian length prefix followed by a -size byte body
//	       (same bytes as in line mode); the reply is read as prefix + body.
//
// Failure handling: a dial failure exits 1 before anything is measured. A
// reply whose length differs from the message is a protocol bug and exits 1
// immediately. Any other I/O error ends that connection and is counted in
// "errors"; the JSON line is still printed and the exit status is 1. The run
// is bounded: every connection has a deadline at warmup+duration+2s, so a
// stalled server cannot keep loadgen alive past that.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net"
	"os"
	"sort"
	"sync"
	"time"
)

// maxSamples caps the latency samples kept per connection (16 MB each) so a
// long single-connection run cannot exhaust memory; beyond it a uniform
// reservoir sample is kept.
const maxSamples = 2000000

// initialSamples is the preallocated capacity per connection: enough for a
// typical run without regrowth, small enough that many connections do not
// reserve gigabytes up front.
const initialSamples = 1 << 16

// graceAfterEnd is how long past the measurement window an in-flight round
// trip may take before the connection deadline aborts it.
const graceAfterEnd = 2 * time.Second

type result struct {
	Conns      int     `json:"conns"`
	Seconds    float64 `json:"seconds"`
	Roundtrips int64   `json:"roundtrips"`
	Rate       float64 `json:"rate"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	Errors     int     `json:"errors"`
}

// worker holds one connection's state and results. Each worker is touched
// by exactly one goroutine until wg.Wait returns, so no locking is needed.
type worker struct {
	id      int
	conn    net.Conn
	count   int64           // measured round trips
	seen    int64           // samples offered to the reservoir
	samples []time.Duration // latency samples (reservoir once full)
	rng     *rand.Rand      // only used once the reservoir is full
	err     error           // I/O error that ended this connection
}

func main() {
	addr := flag.String("addr", "", "TCP address of the server (required)")
	conns := flag.Int("conns", 1, "number of concurrent connections")
	duration := flag.Duration("duration", 5*time.Second, "measured duration")
	warmup := flag.Duration("warmup", 1*time.Second, "unmeasured warm-up before the measured duration")
	size := flag.Int("size", 64, "payload bytes per message (line: including the trailing newline; len32: body bytes after the 4-byte prefix)")
	frame := flag.String("frame", "line", "framing: line or len32")
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
	case *frame != "line" && *frame != "len32":
		usage("-frame must be line or len32")
	case *frame == "line" && *size < 1:
		// The newline itself takes one byte.
		usage("-size must be >= 1 for -frame line")
	case *frame == "len32" && (*size < 0 || int64(*size) > math.MaxUint32):
		usage("-size out of range for -frame len32")
	}

	msg := buildMessage(*frame, *size)

	// Dial everything first so connection setup never overlaps the
	// measurement, and a server that cannot take -conns connections fails
	// the run instead of silently measuring fewer.
	workers := make([]*worker, *conns)
	for i := range workers {
		c, err := net.DialTimeout("tcp", *addr, 5*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: dial %d of %d: %v\n", i+1, *conns, err)
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
	for _, w := range workers {
		// The deadline is what bounds the run if the server stalls.
		if err := w.conn.SetDeadline(end.Add(graceAfterEnd)); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: set deadline: %v\n", err)
			os.Exit(1)
		}
	}

	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			defer w.conn.Close()
			w.run(*frame, msg, *size, measureFrom, end)
		}(w)
	}
	wg.Wait()

	res := result{Conns: *conns, Seconds: duration.Seconds()}
	var all []time.Duration
	for _, w := range workers {
		res.Roundtrips += w.count
		if w.err != nil {
			res.Errors++
			fmt.Fprintf(os.Stderr, "loadgen: conn %d: %v\n", w.id, w.err)
		}
		// Note: once a connection exceeds maxSamples its samples stand for
		// more round trips than other connections' samples; at the rates
		// seen on loopback this only matters for very long runs.
		all = append(all, w.samples...)
	}
	res.Rate = float64(res.Roundtrips) / res.Seconds
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.P50us = percentileUS(all, 0.50)
	res.P99us = percentileUS(all, 0.99)

	out, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: encode result: %v\n", err)
		os.Exit(1)
	}
	if _, err := fmt.Fprintln(os.Stdout, string(out)); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: write stdout: %v\n", err)
		os.Exit(1)
	}
	if res.Errors > 0 {
		os.Exit(1)
	}
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "loadgen: %s\n", msg)
	flag.Usage()
	os.Exit(2)
}

// buildMessage returns the exact bytes written per round trip.
func buildMessage(frame string, size int) []byte {
	body := make([]byte, size)
	for i := range body {
		body[i] = 'x'
	}
	if size > 0 {
		body[size-1] = '\n'
	}
	if frame == "line" {
		return body
	}
	// Prefix and body go out in one Write so each request is one segment.
	msg := make([]byte, 4+size)
	binary.BigEndian.PutUint32(msg, uint32(size))
	copy(msg[4:], body)
	return msg
}

// run is one connection's ping-pong loop. It returns when the measurement
// window has ended or on an I/O error (stored in w.err). A reply of the
// wrong length exits the whole process.
func (w *worker) run(frame string, msg []byte, size int, measureFrom, end time.Time) {
	bufSize := 4096
	if size+4 > bufSize {
		bufSize = size + 4
	}
	r := bufio.NewReaderSize(w.conn, bufSize)
	var hdr [4]byte
	body := make([]byte, size)
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		if _, err := w.conn.Write(msg); err != nil {
			w.err = fmt.Errorf("write: %w", err)
			return
		}
		var got int
		if frame == "line" {
			line, err := r.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				// The buffer holds more than size bytes without a newline,
				// so the reply is certainly longer than the message.
				mismatch(w.id, fmt.Sprintf("more than %d bytes without a newline", len(line)), size)
			}
			if err != nil {
				w.err = fmt.Errorf("read reply: %w", err)
				return
			}
			got = len(line)
		} else {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				w.err = fmt.Errorf("read reply prefix: %w", err)
				return
			}
			n := binary.BigEndian.Uint32(hdr[:])
			if n != uint32(size) {
				mismatch(w.id, fmt.Sprintf("%d", n), size)
			}
			if _, err := io.ReadFull(r, body); err != nil {
				w.err = fmt.Errorf("read reply body: %w", err)
				return
			}
			got = int(n)
		}
		if got != size {
			mismatch(w.id, fmt.Sprintf("%d", got), size)
		}
		t1 := time.Now()
		// Only round trips entirely inside the measurement window count,
		// so the rate is exactly round trips per -duration.
		if !t0.Before(measureFrom) && !t1.After(end) {
			w.count++
			w.record(t1.Sub(t0))
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

// mismatch reports a reply of the wrong length. The echo contract is broken,
// so the numbers would be meaningless: exit at once.
func mismatch(id int, got string, want int) {
	fmt.Fprintf(os.Stderr, "loadgen: conn %d: reply length mismatch: got %s, want %d\n", id, got, want)
	os.Exit(1)
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
