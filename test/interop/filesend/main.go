// Command filesend is the classic Go file sender ("file transfer between two
// hosts"), used as an interop peer for `netkit recv --compat`.
//
// For each file argument it dials -addr, writes the file's base name, waits
// for the receiver to answer "ok", copies the file with io.Copy and closes
// the connection: one file per connection, end of file marked by the close.
// It prints "sent <name> <bytes>" per file. Any error is printed on stderr
// and ends the program with exit status 1.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

func main() {
	addr := flag.String("addr", "", "TCP address of the receiver (required)")
	// Not part of the classic sender, but keeps a receiver that never
	// answers from hanging a test run forever. The copy itself has no limit.
	timeout := flag.Duration("timeout", 10*time.Second, "limit for dialing and for the receiver's reply (0 = none)")
	flag.Parse()
	if *addr == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "filesend: -addr and at least one file are required")
		flag.Usage()
		os.Exit(2)
	}
	for _, path := range flag.Args() {
		n, err := send(*addr, path, *timeout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "filesend: %s: %v\n", path, err)
			os.Exit(1)
		}
		fmt.Printf("sent %s %d\n", filepath.Base(path), n)
	}
}

func send(addr, path string, timeout time.Duration) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()

	d := net.Dialer{Timeout: timeout}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()

	if _, err := conn.Write([]byte(filepath.Base(path))); err != nil {
		return 0, fmt.Errorf("write name: %w", err)
	}
	if timeout > 0 {
		conn.SetReadDeadline(time.Now().Add(timeout))
	}
	buf := make([]byte, 16)
	n, err := conn.Read(buf)
	if err != nil {
		return 0, fmt.Errorf("read reply: %w", err)
	}
	if reply := string(buf[:n]); reply != "ok" {
		return 0, fmt.Errorf("receiver answered %q, not \"ok\"", reply)
	}
	conn.SetReadDeadline(time.Time{})

	// For a *os.File, io.Copy lets the kernel copy (sendfile).
	written, err := io.Copy(conn, f)
	if err != nil {
		return written, fmt.Errorf("copy: %w", err)
	}
	// Close now, not deferred, so a failed close is reported.
	if err := conn.Close(); err != nil {
		return written, fmt.Errorf("close: %w", err)
	}
	return written, nil
}
