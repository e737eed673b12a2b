// Command lineserver is the classic Go TCP line server, used as an interop
// peer for netkit's TCP and line-framing tests.
//
// It listens on -addr, prints exactly one line "listening <addr>" to stdout
// with the real bound address (so callers can pass port 0 and learn the
// port), then serves every connection in its own goroutine: each received
// line (terminated by "\n", with an optional "\r" before it) is answered with
// "<reply>\n", or with "<line>\n" when -echo is set. When the peer half-closes
// or closes (EOF), the server closes the connection. It runs until killed;
// SIGTERM and SIGINT make it exit 0 so test harnesses see a clean shutdown.
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
	"strings"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	reply := flag.String("reply", "Hello, Client!", "fixed reply sent for every received line")
	echo := flag.Bool("echo", false, "reply with the received line instead of -reply")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "lineserver: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lineserver: listen: %v\n", err)
		os.Exit(1)
	}

	// A termination signal is the normal way to stop this server, so it is
	// reported as success rather than as the default "killed by signal".
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		// Exit directly: closing the listener first would race the accept
		// loop, which treats a closed listener as a failure.
		os.Exit(0)
	}()

	// os.Stdout is unbuffered in Go, so this line reaches the reader
	// immediately; the harness waits for it before connecting.
	if _, err := fmt.Fprintf(os.Stdout, "listening %s\n", ln.Addr()); err != nil {
		fmt.Fprintf(os.Stderr, "lineserver: write stdout: %v\n", err)
		os.Exit(1)
	}

	for {
		conn, err := ln.Accept()
		if err != nil {
			// Running out of file descriptors is transient (connections
			// close) and should not kill a long-running test peer; back off
			// briefly instead of spinning. Anything else is fatal.
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				fmt.Fprintf(os.Stderr, "lineserver: accept: %v (retrying)\n", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			fmt.Fprintf(os.Stderr, "lineserver: accept: %v\n", err)
			os.Exit(1)
		}
		go serve(conn, *reply, *echo)
	}
}

// serve answers each line on conn until EOF or an error, then closes conn.
func serve(conn net.Conn, reply string, echo bool) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		// A final line without "\n" before EOF is still a line the peer
		// sent, so it gets a reply before the connection is closed.
		if len(line) > 0 {
			line = strings.TrimSuffix(line, "\n")
			line = strings.TrimSuffix(line, "\r")
			out := reply
			if echo {
				out = line
			}
			if _, werr := io.WriteString(conn, out+"\n"); werr != nil {
				fmt.Fprintf(os.Stderr, "lineserver: %s: write: %v\n", conn.RemoteAddr(), werr)
				return
			}
		}
		if err != nil {
			// EOF is the peer's normal way to finish; only real errors
			// (e.g. connection reset) are worth reporting.
			if err != io.EOF {
				fmt.Fprintf(os.Stderr, "lineserver: %s: read: %v\n", conn.RemoteAddr(), err)
			}
			return
		}
	}
}
