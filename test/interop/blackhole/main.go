// Command blackhole listens on loopback with a backlog of 0 and never
// accepts. Linux then queues one connection and silently drops later SYNs,
// so a client's connect hangs: the only way to test connect timeouts
// without sending traffic off the machine.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "socket:", err)
		os.Exit(1)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		fmt.Fprintln(os.Stderr, "bind:", err)
		os.Exit(1)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		fmt.Fprintln(os.Stderr, "getsockname:", err)
		os.Exit(1)
	}
	fmt.Printf("listening 127.0.0.1:%d\n", sa.(*syscall.SockaddrInet4).Port)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
}
