// Command udpecho is the Go standard-library UDP echo server that netkit is
// benchmarked against.
//
// It binds -addr, prints exactly one line "listening <addr>" to stdout with
// the real bound address, and answers every datagram with itself:
// ReadFromUDP into a 65,535-byte buffer, WriteToUDP back to the sender. One
// goroutine per CPU (GOMAXPROCS) reads the same socket, each with its own
// buffer; the kernel hands each datagram to exactly one of them.
//
// It runs until killed; SIGTERM and SIGINT exit 0.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "UDP address to bind")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "udpecho: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}

	laddr, err := net.ResolveUDPAddr("udp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "udpecho: resolve %s: %v\n", *addr, err)
		os.Exit(1)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "udpecho: listen: %v\n", err)
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
	if _, err := fmt.Fprintf(os.Stdout, "listening %s\n", conn.LocalAddr()); err != nil {
		fmt.Fprintf(os.Stderr, "udpecho: write stdout: %v\n", err)
		os.Exit(1)
	}

	n := runtime.GOMAXPROCS(0)
	done := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			serve(conn)
			done <- struct{}{}
		}()
	}
	<-done
	os.Exit(1)
}

// serve echoes datagrams until the socket fails. Errors about one peer (an
// ICMP "port unreachable" reported on a later call, a full send buffer) are
// ignored: a datagram service drops and goes on.
func serve(conn *net.UDPConn) {
	buf := make([]byte, 65535)
	for {
		n, peer, err := conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(os.Stderr, "udpecho: read: %v\n", err)
				return
			}
			continue
		}
		// A write error is a lost datagram, which UDP allows.
		_, _ = conn.WriteToUDP(buf[:n], peer)
	}
}
