// Command wsload is the load generator of the netkit WebSocket benchmark.
//
// It opens -conns WebSocket connections to -url with gorilla/websocket (all
// of them before the clock starts), then every connection runs a strict
// ping-pong loop: send one binary message of -size bytes, read exactly one
// message back, check that it is binary and has the same length, repeat. The
// first -warmup is not measured; round trips that start after the warm-up
// and finish within the following -duration are counted and their latencies
// recorded. Finally each connection is closed with a close frame (1000) and
// it prints ONE JSON line:
//
//	{"conns":N,"size":B,"seconds":S,"messages":M,"rate":M_per_second,"p50_us":..,"p99_us":..,"errors":E}
//
// Failure handling: a failed dial or handshake exits 1 before anything is
// measured. An echo of the wrong type or length exits 1 at once. Any other
// error ends that connection, is reported on stderr and counted in
// "errors"; the JSON line is still printed and the exit status is 1. The run
// is bounded: every connection has a deadline at warmup+duration+2s, so a
// stalled server cannot keep wsload alive past that.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"net/url"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// maxSamples caps the latency samples kept per connection; beyond it a
// uniform reservoir sample is kept, so a long run cannot exhaust memory.
const maxSamples = 2000000

// initialSamples is the preallocated capacity per connection.
const initialSamples = 1 << 16

// graceAfterEnd is how long past the measurement window an in-flight round
// trip (or the closing handshake) may take before the deadline aborts it.
const graceAfterEnd = 2 * time.Second

type result struct {
	Conns    int     `json:"conns"`
	Size     int     `json:"size"`
	Seconds  float64 `json:"seconds"`
	Messages int64   `json:"messages"`
	Rate     float64 `json:"rate"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
	Errors   int     `json:"errors"`
}

// worker holds one connection's state; only its own goroutine touches it
// until wg.Wait returns.
type worker struct {
	id      int
	conn    *websocket.Conn
	count   int64
	seen    int64
	samples []time.Duration
	rng     *rand.Rand
	err     error
}

func main() {
	target := flag.String("url", "", "WebSocket URL of the echo server, e.g. ws://127.0.0.1:8080/echo (required)")
	conns := flag.Int("conns", 1, "number of concurrent connections")
	size := flag.Int("size", 64, "payload bytes per binary message")
	duration := flag.Duration("duration", 5*time.Second, "measured duration")
	warmup := flag.Duration("warmup", 1*time.Second, "unmeasured warm-up before the measured duration")
	flag.Parse()

	switch {
	case *target == "":
		usage("-url is required")
	case flag.NArg() != 0:
		usage(fmt.Sprintf("unexpected arguments: %v", flag.Args()))
	case *conns < 1:
		usage("-conns must be >= 1")
	case *size < 0:
		usage("-size must be >= 0")
	case *duration <= 0:
		usage("-duration must be > 0")
	case *warmup < 0:
		usage("-warmup must be >= 0")
	}
	if u, err := url.Parse(*target); err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		usage(fmt.Sprintf("-url must be a ws:// or wss:// URL, got %q", *target))
	}

	msg := make([]byte, *size)
	for i := range msg {
		msg[i] = byte('a' + i%26)
	}

	// A write buffer that holds the whole message makes gorilla send it as
	// one frame, as browsers and ws do, instead of fragmenting at 4 KiB.
	bufSize := 4096
	if *size > bufSize {
		bufSize = *size
	}
	dialer := websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		ReadBufferSize:   bufSize,
		WriteBufferSize:  bufSize,
	}

	// Dial everything first so handshakes never overlap the measurement and
	// a server that cannot take -conns connections fails the run.
	workers := make([]*worker, *conns)
	for i := range workers {
		c, resp, err := dialer.Dial(*target, nil)
		if err != nil {
			status := ""
			if resp != nil {
				status = fmt.Sprintf(" (HTTP %s)", resp.Status)
			}
			fmt.Fprintf(os.Stderr, "wsload: dial %d of %d: %v%s\n", i+1, *conns, err, status)
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
	deadline := end.Add(graceAfterEnd)

	var wg sync.WaitGroup
	for _, w := range workers {
		// The deadlines are what bound the run if the server stalls.
		w.conn.SetReadDeadline(deadline)
		w.conn.SetWriteDeadline(deadline)
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			defer w.conn.Close()
			w.run(msg, measureFrom, end)
			if w.err == nil {
				w.close(deadline)
			}
		}(w)
	}
	wg.Wait()

	res := result{Conns: *conns, Size: *size, Seconds: duration.Seconds()}
	var all []time.Duration
	for _, w := range workers {
		res.Messages += w.count
		if w.err != nil {
			res.Errors++
			fmt.Fprintf(os.Stderr, "wsload: conn %d: %v\n", w.id, w.err)
		}
		all = append(all, w.samples...)
	}
	res.Rate = float64(res.Messages) / res.Seconds
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	res.P50us = percentileUS(all, 0.50)
	res.P99us = percentileUS(all, 0.99)

	out, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wsload: encode result: %v\n", err)
		os.Exit(1)
	}
	if _, err := fmt.Fprintln(os.Stdout, string(out)); err != nil {
		fmt.Fprintf(os.Stderr, "wsload: write stdout: %v\n", err)
		os.Exit(1)
	}
	if res.Errors > 0 {
		os.Exit(1)
	}
}

func usage(msg string) {
	fmt.Fprintf(os.Stderr, "wsload: %s\n", msg)
	flag.Usage()
	os.Exit(2)
}

// run is one connection's ping-pong loop. It returns when the measurement
// window has ended or on an error (stored in w.err). An echo of the wrong
// type or length exits the whole process: the numbers would be meaningless.
func (w *worker) run(msg []byte, measureFrom, end time.Time) {
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		if err := w.conn.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			w.err = fmt.Errorf("write: %w", err)
			return
		}
		typ, reply, err := w.conn.ReadMessage()
		if err != nil {
			w.err = fmt.Errorf("read echo: %w", err)
			return
		}
		if typ != websocket.BinaryMessage || len(reply) != len(msg) {
			fmt.Fprintf(os.Stderr, "wsload: conn %d: bad echo: type %d, %d bytes; want binary (%d), %d bytes\n",
				w.id, typ, len(reply), websocket.BinaryMessage, len(msg))
			os.Exit(1)
		}
		t1 := time.Now()
		// Only round trips entirely inside the window count, so the rate is
		// exactly messages per -duration.
		if !t0.Before(measureFrom) && !t1.After(end) {
			w.count++
			w.record(t1.Sub(t0))
		}
	}
}

// close performs the closing handshake (1000), so servers see a normal
// close rather than a dropped connection: send the close frame, then read
// until the server's close frame (or the deadline) ends the connection.
func (w *worker) close(deadline time.Time) {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := w.conn.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
		w.err = fmt.Errorf("send close: %w", err)
		return
	}
	for {
		if _, _, err := w.conn.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseNoStatusReceived) {
				w.err = fmt.Errorf("closing handshake: %w", err)
			}
			return
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
	return math.Round(us*100) / 100
}
