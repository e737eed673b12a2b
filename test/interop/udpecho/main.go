// Command udpecho is a UDP echo server, used as an interop peer for netkit's
// UDP tests.
//
// It listens on -addr, prints exactly one line "listening <addr>" to stdout
// with the real bound address (so callers can pass port 0 and learn the
// port), then sends every datagram it receives back to its sender, unchanged.
// The read buffer is 65,535 bytes so that the largest datagram either IP
// family can carry arrives whole. It runs until killed; SIGTERM and SIGINT
// make it exit 0 so test harnesses see a clean shutdown.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "UDP address to listen on")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "udpecho: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}

	conn, err := net.ListenPacket("udp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "udpecho: listen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", conn.LocalAddr())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		conn.Close()
		os.Exit(0)
	}()

	buf := make([]byte, 65535)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			fmt.Fprintf(os.Stderr, "udpecho: read: %v\n", err)
			os.Exit(1)
		}
		if _, err := conn.WriteTo(buf[:n], from); err != nil {
			fmt.Fprintf(os.Stderr, "udpecho: write to %v: %v\n", from, err)
		}
	}
}
