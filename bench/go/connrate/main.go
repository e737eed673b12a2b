// Command connrate measures how many short connections a line echo server
// completes per second: the connection setup rate that decides how a
// server's accepts are spread over processes.
//
// -conns dialers each loop: dial -addr, write one -size byte line ((size-1)
// 'x' bytes and '\n'), read the echoed line, close. A connection that starts
// after -warmup and finishes within the following -duration is counted; its
// latency runs from the dial to the close. Finally it prints ONE JSON line,
// in the shape of bench/go/loadgen's so the same harness reads it:
//
//	{"conns":N,"seconds":S,"roundtrips":C,"rate":C_per_second,"p50_us":..,"p99_us":..,"errors":E}
//
// where roundtrips counts whole connections. Any failed dial, write or read
// ends that dialer and is counted in "errors"; the exit status is then 1.
// Every connection has a deadline past the window, so a stalled server
// cannot keep connrate alive.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"time"
)

type result struct {
	Conns      int     `json:"conns"`
	Seconds    float64 `json:"seconds"`
	Roundtrips int64   `json:"roundtrips"`
	Rate       float64 `json:"rate"`
	P50us      float64 `json:"p50_us"`
	P99us      float64 `json:"p99_us"`
	Errors     int     `json:"errors"`
}

// maxSamples bounds the latencies kept per dialer; later ones are dropped
// (the window is seconds long, so the first ones are representative).
const maxSamples = 1 << 20

func main() {
	addr := flag.String("addr", "", "TCP address of the server (required)")
	conns := flag.Int("conns", 8, "concurrent dialers")
	duration := flag.Duration("duration", 5*time.Second, "measured duration")
	warmup := flag.Duration("warmup", time.Second, "unmeasured warm-up")
	size := flag.Int("size", 64, "line bytes, including the trailing newline")
	flag.Parse()
	if *addr == "" || *conns < 1 || *duration <= 0 || *warmup < 0 || *size < 1 || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: connrate -addr host:port [-conns N] [-duration D] [-warmup D] [-size B]")
		os.Exit(2)
	}
	msg := make([]byte, *size)
	for i := range msg {
		msg[i] = 'x'
	}
	msg[len(msg)-1] = '\n'

	start := time.Now()
	measureFrom := start.Add(*warmup)
	end := measureFrom.Add(*duration)
	deadline := end.Add(2 * time.Second)

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		total    int64
		errs     int
		samples  []time.Duration
		firstErr error
	)
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			local := make([]time.Duration, 0, 1<<14)
			var err error
			for {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				if err = once(*addr, msg, deadline); err != nil {
					break
				}
				t1 := time.Now()
				if !t0.Before(measureFrom) && !t1.After(end) {
					n++
					if len(local) < maxSamples {
						local = append(local, t1.Sub(t0))
					}
				}
			}
			mu.Lock()
			total += n
			samples = append(samples, local...)
			if err != nil {
				errs++
				if firstErr == nil {
					firstErr = err
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()

	sort.Slice(samples, func(a, b int) bool { return samples[a] < samples[b] })
	pct := func(p float64) float64 {
		if len(samples) == 0 {
			return 0
		}
		i := int(p*float64(len(samples))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(samples) {
			i = len(samples) - 1
		}
		return float64(samples[i].Nanoseconds()) / 1000
	}
	secs := duration.Seconds()
	out, _ := json.Marshal(result{
		Conns: *conns, Seconds: secs, Roundtrips: total, Rate: float64(total) / secs,
		P50us: pct(0.5), P99us: pct(0.99), Errors: errs,
	})
	fmt.Println(string(out))
	if errs > 0 {
		fmt.Fprintf(os.Stderr, "connrate: %d dialer(s) failed; first: %v\n", errs, firstErr)
		os.Exit(1)
	}
}

// once makes one connection: dial, one line each way, close.
func once(addr string, msg []byte, deadline time.Time) error {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := c.Write(msg); err != nil {
		return err
	}
	line, err := bufio.NewReaderSize(c, len(msg)+1).ReadSlice('\n')
	if err != nil {
		return err
	}
	if len(line) != len(msg) {
		return fmt.Errorf("reply of %d bytes, want %d", len(line), len(msg))
	}
	return nil
}
