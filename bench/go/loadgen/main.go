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
//
// TLS (-tls, for the tls benchmark): every connection is a crypto/tls client
// that completes its handshake before the clock starts, then runs the same
// ping-pong. The server's certificate is verified against -ca (a PEM file;
// the system roots without it), or not at all with -insecure. -servername
// sets the name verified and sent as SNI (default: the host of -addr, so an
// IP address is checked against the certificate's IP SANs). The JSON line
// then also carries "tls_version".
//
// Handshakes (-handshake full or resume, implies -tls): instead of
// ping-pong, -conns dialers each loop: dial a new TCP connection, complete a
// TLS handshake, close. A handshake that starts after the warm-up and ends
// within -duration is counted; its latency runs from the dial to the end of
// the handshake. The JSON line is
//
//	{"mode":M,"conns":N,"seconds":S,"handshakes":H,"resumed":R,"rate":H_per_second,"p50_us":..,"p99_us":..,"errors":E,"tls_version":V}
//
//	full    no session cache (tls.Config.ClientSessionCache nil): every
//	        handshake is a full one (certificate, signature, key exchange).
//	resume  one tls.NewLRUClientSessionCache shared by all dialers, so a
//	        handshake resumes a session when the server issued a ticket.
//	        In TLS 1.3 the ticket arrives after the handshake, so a
//	        connection that did not resume first does one -size line
//	        ping-pong (which reads the ticket) before closing; a resumed
//	        one closes at once. "resumed" counts the measured handshakes
//	        where ConnectionState().DidResume was true.
//
// Any failed dial or handshake ends that dialer and is counted in "errors";
// the exit status is then 1.
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
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
	TLSVersion string  `json:"tls_version,omitempty"`
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
	useTLS := flag.Bool("tls", false, "speak TLS (crypto/tls client) on every connection")
	caFile := flag.String("ca", "", "with -tls: PEM file of the certificate(s) to trust (default: system roots)")
	insecure := flag.Bool("insecure", false, "with -tls: do not verify the server's certificate")
	serverName := flag.String("servername", "", "with -tls: name to verify and send as SNI (default: the host of -addr)")
	handshake := flag.String("handshake", "", "measure TLS handshakes instead of ping-pong: full or resume (implies -tls)")
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
	case *handshake != "" && *handshake != "full" && *handshake != "resume":
		usage("-handshake must be full or resume")
	case *handshake != "" && *frame != "line":
		usage("-handshake needs -frame line")
	case !*useTLS && *handshake == "" && (*caFile != "" || *insecure || *serverName != ""):
		usage("-ca, -insecure and -servername need -tls")
	case *caFile != "" && *insecure:
		usage("-ca and -insecure exclude each other")
	}

	msg := buildMessage(*frame, *size)

	var tlsConfig *tls.Config
	if *useTLS || *handshake != "" {
		var err error
		if tlsConfig, err = clientConfig(*addr, *caFile, *insecure, *serverName); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
			os.Exit(1)
		}
	}
	if *handshake != "" {
		runHandshakes(*addr, tlsConfig, *handshake, *conns, *warmup, *duration, msg)
		return
	}

	// Dial everything first so connection setup never overlaps the
	// measurement, and a server that cannot take -conns connections fails
	// the run instead of silently measuring fewer.
	workers := make([]*worker, *conns)
	for i := range workers {
		c, err := dial(*addr, tlsConfig)
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
	if tlsConfig != nil {
		res.TLSVersion = tlsVersion(workers[0].conn.(*tls.Conn).ConnectionState().Version)
	}
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

// clientConfig is the crypto/tls client configuration for -tls. It has no
// session cache: ping-pong connections and -handshake full do full
// handshakes; runHandshakes adds a cache for -handshake resume.
func clientConfig(addr, caFile string, insecure bool, serverName string) (*tls.Config, error) {
	if serverName == "" {
		// tls.Client, unlike tls.Dial, does not take the name from the
		// address. An IP address is verified but not sent as SNI.
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("-addr: %w", err)
		}
		serverName = host
	}
	c := &tls.Config{ServerName: serverName, InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read -ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-ca %s holds no PEM certificate", caFile)
		}
		c.RootCAs = pool
	}
	return c, nil
}

// dial opens one connection for ping-pong: plain TCP, or with tlsConfig a
// TLS connection whose handshake is complete, so that no handshake falls
// into the measurement.
func dial(addr string, tlsConfig *tls.Config) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil || tlsConfig == nil {
		return c, err
	}
	tc := tls.Client(c, tlsConfig)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		tc.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	tc.SetDeadline(time.Time{})
	return tc, nil
}

// tlsVersion names a negotiated TLS version: "1.3".
func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// hsResult is the JSON line of -handshake.
type hsResult struct {
	Mode       string  `json:"mode"`
	Conns      int     `json:"conns"`
	Seconds    float64 `json:"seconds"`
	Handshakes int64   `json:"handshakes"`
	Resumed    int64   `json:"resumed"`
	Rate       float64 `json:"rate"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	Errors     int     `json:"errors"`
	TLSVersion string  `json:"tls_version"`
}

// dialer is one handshake loop's state and results, touched by one
// goroutine until wg.Wait returns.
type dialer struct {
	worker        // count, samples and err as for ping-pong; conn unused
	resumed int64 // measured handshakes that resumed a session
	version uint16
}

// runHandshakes is -handshake: conns dialers handshaking in a loop until
// warmup+duration has passed; it prints the JSON line and exits.
func runHandshakes(addr string, base *tls.Config, mode string, conns int, warmup, duration time.Duration, ping []byte) {
	config := base.Clone()
	if mode == "resume" {
		config.ClientSessionCache = tls.NewLRUClientSessionCache(64)
	}
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(duration)
	dialers := make([]*dialer, conns)
	var wg sync.WaitGroup
	for i := range dialers {
		d := &dialer{worker: worker{
			id:      i,
			samples: make([]time.Duration, 0, initialSamples),
			rng:     rand.New(rand.NewSource(int64(i) + 1)),
		}}
		dialers[i] = d
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.loop(addr, config, mode == "resume", ping, measureFrom, end)
		}()
	}
	wg.Wait()

	res := hsResult{Mode: mode, Conns: conns, Seconds: duration.Seconds()}
	var all []time.Duration
	for _, d := range dialers {
		res.Handshakes += d.count
		res.Resumed += d.resumed
		if d.err != nil {
			res.Errors++
			fmt.Fprintf(os.Stderr, "loadgen: dialer %d: %v\n", d.id, d.err)
		}
		if d.version != 0 {
			res.TLSVersion = tlsVersion(d.version)
		}
		all = append(all, d.samples...)
	}
	res.Rate = float64(res.Handshakes) / res.Seconds
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

// loop is one dialer: new connection, handshake, close, until end. With
// fetchTicket, a connection that did not resume does one ping-pong before
// closing so that the client reads the session ticket a TLS 1.3 server
// sends after the handshake.
func (d *dialer) loop(addr string, config *tls.Config, fetchTicket bool, ping []byte, measureFrom, end time.Time) {
	dialer := net.Dialer{Timeout: 5 * time.Second, Deadline: end.Add(graceAfterEnd)}
	reply := make([]byte, 0, len(ping))
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		raw, err := dialer.Dial("tcp", addr)
		if err != nil {
			d.err = fmt.Errorf("dial: %w", err)
			return
		}
		c := tls.Client(raw, config)
		c.SetDeadline(end.Add(graceAfterEnd))
		if err := c.Handshake(); err != nil {
			c.Close()
			d.err = fmt.Errorf("tls handshake: %w", err)
			return
		}
		t1 := time.Now()
		st := c.ConnectionState()
		d.version = st.Version
		if fetchTicket && !st.DidResume {
			if err := pingOnce(c, ping, reply); err != nil {
				c.Close()
				d.err = fmt.Errorf("ping-pong to fetch the session ticket: %w", err)
				return
			}
		}
		c.Close()
		if !t0.Before(measureFrom) && !t1.After(end) {
			d.count++
			if st.DidResume {
				d.resumed++
			}
			d.record(t1.Sub(t0))
		}
	}
}

// pingOnce writes ping (a line) and reads one reply line of the same length.
func pingOnce(c net.Conn, ping, buf []byte) error {
	if _, err := c.Write(ping); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	buf = buf[:0]
	var b [512]byte
	for {
		n, err := c.Read(b[:])
		buf = append(buf, b[:n]...)
		if len(buf) > 0 && buf[len(buf)-1] == '\n' {
			break
		}
		if len(buf) > len(ping) {
			break
		}
		if err != nil {
			return fmt.Errorf("read reply: %w", err)
		}
	}
	if len(buf) != len(ping) {
		return fmt.Errorf("reply length mismatch: got %d, want %d", len(buf), len(ping))
	}
	return nil
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
