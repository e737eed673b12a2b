// Command tlsecho is the Go standard-library TLS line echo server that
// netkit's TLS server is benchmarked against: bench/go/echoserver with
// crypto/tls in front.
//
// It loads the certificate chain and private key from -cert and -key (PEM),
// listens on -addr, prints exactly one line "listening <addr>" to stdout with
// the real bound address, and serves each connection in its own goroutine:
// the handshake runs on the first read, then every line read with
// ReadSlice('\n') is written back unchanged through a bufio.Writer that is
// flushed when the reader has no more buffered input, as in echoserver.
//
// The tls.Config is Go's default apart from the certificate: TLS 1.2 and
// 1.3, session tickets on (keys made at start and rotated by crypto/tls), so
// clients can resume. Per-connection errors are not logged: handshake load
// generators close right after the handshake, often with a reset, and a log
// line per connection would cost more than the handshake.
//
// It uses all cores (GOMAXPROCS is left at its default) and runs until
// killed; SIGTERM and SIGINT exit 0.
package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	certFile := flag.String("cert", "", "PEM certificate (chain) file (required)")
	keyFile := flag.String("key", "", "PEM private key file (required)")
	flag.Parse()
	switch {
	case flag.NArg() != 0:
		fmt.Fprintf(os.Stderr, "tlsecho: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	case *certFile == "" || *keyFile == "":
		fmt.Fprintln(os.Stderr, "tlsecho: -cert and -key are required")
		os.Exit(2)
	}

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlsecho: load certificate: %v\n", err)
		os.Exit(1)
	}
	config := &tls.Config{Certificates: []tls.Certificate{cert}}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlsecho: listen: %v\n", err)
		os.Exit(1)
	}

	// Being stopped by a signal is the normal end of a benchmark run.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		os.Exit(0)
	}()

	// os.Stdout is unbuffered, so the harness sees this line at once.
	if _, err := fmt.Fprintf(os.Stdout, "listening %s\n", ln.Addr()); err != nil {
		fmt.Fprintf(os.Stderr, "tlsecho: write stdout: %v\n", err)
		os.Exit(1)
	}

	for {
		conn, err := ln.Accept()
		if err != nil {
			// Descriptor exhaustion is transient; back off instead of dying.
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				fmt.Fprintf(os.Stderr, "tlsecho: accept: %v (retrying)\n", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			fmt.Fprintf(os.Stderr, "tlsecho: accept: %v\n", err)
			os.Exit(1)
		}
		// Like net/http: Nagle off (Go's default for TCP) and the TLS
		// server wrapping the accepted connection.
		go serve(tls.Server(conn, config))
	}
}

func serve(conn *tls.Conn) {
	defer conn.Close()
	// A client that connects and never finishes its handshake must not
	// hold a goroutine forever.
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := conn.Handshake(); err != nil {
		return
	}
	conn.SetDeadline(time.Time{})
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	for {
		line, err := r.ReadSlice('\n')
		// line aliases r's buffer; copy it into w right away.
		if len(line) > 0 {
			if _, werr := w.Write(line); werr != nil {
				return
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			// EOF, a close_notify, or a reset: deliver what we have and close.
			w.Flush()
			return
		}
		if r.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
	}
}
