// Command portwait runs a server that does not announce its address (socat,
// HAProxy) the way the benchmark harness expects servers to: it starts the
// command, waits until -addr accepts a TCP connection, then prints exactly
// one line "listening <addr>" to stdout.
//
//	portwait -addr 127.0.0.1:PORT -- socat TCP-LISTEN:PORT,fork,reuseaddr TCP:…
//
// The command stays in portwait's process group, so the harness's CPU
// sampling and clean-up of the group cover it; portwait itself only waits.
// SIGTERM and SIGINT are passed on to the command, and portwait exits when
// the command does (0 when it was stopped by the signal passed on). If the
// command exits first, or -addr does not accept within -timeout, portwait
// kills it and exits 1.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "", "TCP address the command listens on (required)")
	timeout := flag.Duration("timeout", 10*time.Second, "how long to wait for -addr to accept")
	flag.Parse()
	if *addr == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: portwait -addr HOST:PORT [-timeout 10s] -- command [args...]")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdout = os.Stderr // stdout carries only the listening line
	cmd.Stderr = os.Stderr
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "portwait: %v\n", err)
		os.Exit(1)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	stopped := false
	ready := time.NewTimer(0)
	deadline := time.Now().Add(*timeout)
	listening := false
	for {
		select {
		case s := <-sigs:
			stopped = true
			cmd.Process.Signal(s)
		case err := <-exited:
			if stopped {
				os.Exit(0)
			}
			fmt.Fprintf(os.Stderr, "portwait: %s exited: %v\n", flag.Arg(0), err)
			os.Exit(1)
		case <-ready.C:
			if listening {
				continue
			}
			c, err := net.DialTimeout("tcp", *addr, time.Second)
			if err == nil {
				c.Close()
				listening = true
				fmt.Fprintf(os.Stdout, "listening %s\n", *addr)
				continue
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				fmt.Fprintf(os.Stderr, "portwait: %s did not accept on %s within %v: %v\n", flag.Arg(0), *addr, *timeout, err)
				os.Exit(1)
			}
			ready.Reset(20 * time.Millisecond)
		}
	}
}
