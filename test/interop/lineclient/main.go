// Command lineclient is the classic Go TCP line client, used as an interop
// peer for netkit's TCP servers.
//
// It dials -addr and, for i in 0..n-1, writes "<msg> <i>\n" and reads one
// reply line, printing "reply: <line>" for each (the trailing "\n" and an
// optional "\r" are stripped). It then half-closes its side (CloseWrite) and
// reads until EOF; if the server closes cleanly without sending anything
// more, it prints "eof" and exits 0. Any other outcome is an error on stderr
// and exit status 1.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "", "TCP address to dial (required)")
	n := flag.Int("n", 3, "number of lines to send")
	msg := flag.String("msg", "hello", "message prefix; line i is \"<msg> <i>\"")
	// Not part of the classic client, but keeps a broken server from hanging
	// a test run forever.
	timeout := flag.Duration("timeout", 10*time.Second, "overall deadline for the whole exchange (0 = none)")
	flag.Parse()
	if *addr == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "lineclient: -addr is required and no positional arguments are accepted")
		flag.Usage()
		os.Exit(2)
	}
	if *n < 0 {
		fmt.Fprintln(os.Stderr, "lineclient: -n must be >= 0")
		os.Exit(2)
	}
	if err := run(*addr, *n, *msg, *timeout); err != nil {
		fmt.Fprintf(os.Stderr, "lineclient: %v\n", err)
		os.Exit(1)
	}
}

func run(addr string, n int, msg string, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	if timeout > 0 {
		if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
			return fmt.Errorf("set deadline: %w", err)
		}
	}

	r := bufio.NewReader(conn)
	for i := 0; i < n; i++ {
		if _, err := fmt.Fprintf(conn, "%s %d\n", msg, i); err != nil {
			return fmt.Errorf("write line %d: %w", i, err)
		}
		line, err := r.ReadString('\n')
		if err != nil {
			// A partial line followed by EOF means the server did not
			// finish its reply, so it is an error, not a reply.
			if err == io.EOF {
				return fmt.Errorf("read reply %d: server closed before a full line (got %q)", i, line)
			}
			return fmt.Errorf("read reply %d: %w", i, err)
		}
		line = strings.TrimSuffix(line, "\n")
		line = strings.TrimSuffix(line, "\r")
		if _, err := fmt.Fprintf(os.Stdout, "reply: %s\n", line); err != nil {
			return fmt.Errorf("write stdout: %w", err)
		}
	}

	// Half-close: tell the server we are done sending while still being
	// able to read whatever it sends before it closes.
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return errors.New("connection is not TCP; cannot half-close")
	}
	if err := tc.CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}

	// A clean close means EOF with nothing further; extra bytes would mean
	// the server sent replies we did not ask for.
	rest, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read after half-close: %w", err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("unexpected %d bytes after half-close: %q", len(rest), rest)
	}
	if _, err := fmt.Fprintln(os.Stdout, "eof"); err != nil {
		return fmt.Errorf("write stdout: %w", err)
	}
	return nil
}
