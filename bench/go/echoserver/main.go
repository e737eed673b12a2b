// Command echoserver is the Go standard-library line echo server that netkit
// is benchmarked against.
//
// It listens on -addr, prints exactly one line "listening <addr>" to stdout
// with the real bound address, and serves each connection in its own
// goroutine with a bufio.Reader and bufio.Writer: every line read with
// ReadSlice('\n') is written back unchanged. The writer is flushed only when
// the reader has no more buffered input (r.Buffered() == 0): a pipelining
// client gets many replies per syscall, while a ping-pong client still gets
// each reply immediately because its next request is not buffered yet.
//
// It uses all cores (GOMAXPROCS is left at its default) and runs until
// killed; SIGTERM and SIGINT exit 0.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "echoserver: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "echoserver: listen: %v\n", err)
		os.Exit(1)
	}

	// Being stopped by a signal is the normal end of a benchmark run.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		// Exit directly: closing the listener first would race the accept
		// loop, which treats a closed listener as a failure.
		os.Exit(0)
	}()

	// os.Stdout is unbuffered, so the harness sees this line at once.
	if _, err := fmt.Fprintf(os.Stdout, "listening %s\n", ln.Addr()); err != nil {
		fmt.Fprintf(os.Stderr, "echoserver: write stdout: %v\n", err)
		os.Exit(1)
	}

	for {
		conn, err := ln.Accept()
		if err != nil {
			// Descriptor exhaustion under a many-connection benchmark is
			// transient; back off instead of dying or spinning.
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				fmt.Fprintf(os.Stderr, "echoserver: accept: %v (retrying)\n", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			fmt.Fprintf(os.Stderr, "echoserver: accept: %v\n", err)
			os.Exit(1)
		}
		go serve(conn)
	}
}

func serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	for {
		line, err := r.ReadSlice('\n')
		// line aliases r's buffer and is only valid until the next read,
		// so it is copied into w right away.
		if len(line) > 0 {
			if _, werr := w.Write(line); werr != nil {
				return
			}
		}
		if err == bufio.ErrBufferFull {
			// A line longer than the read buffer: pass it through in pieces;
			// the rest of the line is still to come, so no flush yet.
			continue
		}
		if err != nil {
			// EOF (possibly after a final unterminated line) or a real
			// error: deliver what we have and close.
			w.Flush()
			// A reset is how many load generators end a connection, so it
			// is not worth a log line in a benchmark.
			if err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
				fmt.Fprintf(os.Stderr, "echoserver: %s: read: %v\n", conn.RemoteAddr(), err)
			}
			return
		}
		if r.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
}
