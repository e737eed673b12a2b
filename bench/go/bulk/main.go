// Command bulk moves one large stream over TCP and times it, for the relay
// benchmark: a sink that discards what it reads and a source that writes.
//
//	bulk -sink -addr 127.0.0.1:0
//	bulk -send -addr HOST:PORT -bytes 1073741824
//
// The sink prints exactly one line "listening <addr>" to stdout and serves
// each connection in its own goroutine: it reads until EOF, counting bytes,
// then writes the count back as one line ("<n>\n") and closes. An empty
// connection (a readiness probe) gets "0\n" like any other.
//
// The source dials -addr, writes -bytes bytes in -chunk writes, half-closes
// (CloseWrite), and reads the sink's count. The time runs from the end of
// the dial to the count's arrival, so it covers every byte reaching the sink
// and the FIN crossing whatever sits in between (a relay must pass on the
// half-close for the count to come back at all). It prints ONE JSON line:
//
//	{"bytes":N,"seconds":S,"mb_s":MB_per_second}
//
// (1 MB = 10^6 bytes) and exits 0, or exits 1 with a message on stderr when
// the dial fails, an I/O error occurs, the count differs from -bytes, or the
// whole run exceeds -timeout.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	sink := flag.Bool("sink", false, "run the sink (listen, discard, reply with the count)")
	send := flag.Bool("send", false, "run the source (dial, write -bytes, time until the count returns)")
	addr := flag.String("addr", "", "address to listen on (-sink) or dial (-send)")
	n := flag.Int64("bytes", 1<<30, "bytes to send (-send)")
	chunk := flag.Int("chunk", 128<<10, "bytes per write (-send)")
	timeout := flag.Duration("timeout", 2*time.Minute, "bound on the whole transfer (-send)")
	flag.Parse()
	switch {
	case *sink == *send:
		fail(2, "exactly one of -sink and -send is required")
	case *addr == "":
		fail(2, "-addr is required")
	case flag.NArg() != 0:
		fail(2, fmt.Sprintf("unexpected arguments: %v", flag.Args()))
	case *n < 0 || *chunk < 1:
		fail(2, "-bytes must be >= 0 and -chunk >= 1")
	}
	if *sink {
		runSink(*addr)
	}
	runSend(*addr, *n, *chunk, *timeout)
}

func fail(code int, msg string) {
	fmt.Fprintf(os.Stderr, "bulk: %s\n", msg)
	os.Exit(code)
}

func runSink(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fail(1, fmt.Sprintf("listen: %v", err))
	}
	// Being stopped by a signal is the normal end of a benchmark run.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		os.Exit(0)
	}()
	fmt.Fprintf(os.Stdout, "listening %s\n", ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			fail(1, fmt.Sprintf("accept: %v", err))
		}
		go drain(conn)
	}
}

func drain(conn net.Conn) {
	defer conn.Close()
	// Larger than a relay's chunk, so the sink never becomes the bottleneck
	// through the syscall count.
	buf := make([]byte, 256<<10)
	var total int64
	for {
		m, err := conn.Read(buf)
		total += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			// A reset source has no one to tell.
			return
		}
	}
	fmt.Fprintf(conn, "%d\n", total)
}

func runSend(addr string, n int64, chunk int, timeout time.Duration) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		fail(1, fmt.Sprintf("dial: %v", err))
	}
	tcp := conn.(*net.TCPConn)
	tcp.SetDeadline(time.Now().Add(timeout))
	buf := make([]byte, chunk)
	for i := range buf {
		buf[i] = byte(i)
	}
	start := time.Now()
	for left := n; left > 0; {
		b := buf
		if int64(len(b)) > left {
			b = b[:left]
		}
		m, err := tcp.Write(b)
		left -= int64(m)
		if err != nil {
			fail(1, fmt.Sprintf("write after %d bytes: %v", n-left, err))
		}
	}
	if err := tcp.CloseWrite(); err != nil {
		fail(1, fmt.Sprintf("half-close: %v", err))
	}
	line, err := bufio.NewReader(tcp).ReadString('\n')
	secs := time.Since(start).Seconds()
	if err != nil {
		fail(1, fmt.Sprintf("reading the sink's count: %v (the FIN may not have been passed on)", err))
	}
	got, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	if err != nil || got != n {
		fail(1, fmt.Sprintf("the sink counted %q bytes, %d were sent", strings.TrimSpace(line), n))
	}
	tcp.Close()
	out, _ := json.Marshal(map[string]any{"bytes": n, "seconds": secs, "mb_s": float64(n) / secs / 1e6})
	fmt.Println(string(out))
	os.Exit(0)
}
