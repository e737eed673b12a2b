// Command udpclient sends one UDP datagram and prints the reply, used as an
// interop peer for netkit's UDP tests.
//
// It dials -addr, sends -msg (or, when -size is above 0, a payload of -size
// 'x' bytes), waits up to -timeout for one datagram back and prints
// "reply <n> bytes: <first 40 bytes>". It exits 1 when no reply arrives in
// time or on any network error.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "UDP address to send to")
	msg := flag.String("msg", "hello", "payload to send when -size is 0")
	size := flag.Int("size", 0, "send this many 'x' bytes instead of -msg (0 = use -msg)")
	timeout := flag.Duration("timeout", 2*time.Second, "how long to wait for the reply")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "udpclient: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}

	payload := []byte(*msg)
	if *size > 0 {
		payload = bytes.Repeat([]byte("x"), *size)
	}

	conn, err := net.Dial("udp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "udpclient: dial: %v\n", err)
		os.Exit(1)
	}
	defer conn.Close()
	if _, err := conn.Write(payload); err != nil {
		fmt.Fprintf(os.Stderr, "udpclient: write: %v\n", err)
		os.Exit(1)
	}
	if err := conn.SetReadDeadline(time.Now().Add(*timeout)); err != nil {
		fmt.Fprintf(os.Stderr, "udpclient: deadline: %v\n", err)
		os.Exit(1)
	}
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		fmt.Fprintf(os.Stderr, "udpclient: read: %v\n", err)
		os.Exit(1)
	}
	head := buf[:n]
	if len(head) > 40 {
		head = head[:40]
	}
	fmt.Printf("reply %d bytes: %s\n", n, head)
}
