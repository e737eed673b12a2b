// Command rpcserver is the Go standard-library net/rpc server that netkit's
// RPC client and server are benchmarked against: the classic Arith service
// of the net/rpc documentation (Multiply and Divide on Args{A, B int}),
// served with rpc.ServeConn (-codec gob) or jsonrpc.ServeConn (-codec json),
// one goroutine per connection, as the documentation's example does.
//
// It listens on -addr, prints exactly one line "listening <addr> (<codec>)"
// to stdout with the real bound address, and runs until killed; SIGTERM and
// SIGINT exit 0.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Args are the arguments of Arith's methods.
type Args struct {
	A, B int
}

// Quotient is the reply of Arith.Divide.
type Quotient struct {
	Quo, Rem int
}

// Arith is the service of the net/rpc documentation.
type Arith int

// Multiply sets *reply to A*B.
func (t *Arith) Multiply(args *Args, reply *int) error {
	*reply = args.A * args.B
	return nil
}

// Divide sets *quo to A/B and A%B, or fails for B == 0.
func (t *Arith) Divide(args *Args, quo *Quotient) error {
	if args.B == 0 {
		return errors.New("divide by zero")
	}
	quo.Quo = args.A / args.B
	quo.Rem = args.A % args.B
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	codec := flag.String("codec", "gob", "gob (rpc.ServeConn) or json (jsonrpc.ServeConn)")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "rpcserver: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}
	if *codec != "gob" && *codec != "json" {
		fmt.Fprintf(os.Stderr, "rpcserver: -codec must be gob or json, not %q\n", *codec)
		os.Exit(2)
	}

	if err := rpc.Register(new(Arith)); err != nil {
		fmt.Fprintf(os.Stderr, "rpcserver: register: %v\n", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rpcserver: listen: %v\n", err)
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
	if _, err := fmt.Fprintf(os.Stdout, "listening %s (%s)\n", ln.Addr(), *codec); err != nil {
		fmt.Fprintf(os.Stderr, "rpcserver: write stdout: %v\n", err)
		os.Exit(1)
	}

	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				fmt.Fprintf(os.Stderr, "rpcserver: accept: %v (retrying)\n", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			fmt.Fprintf(os.Stderr, "rpcserver: accept: %v\n", err)
			os.Exit(1)
		}
		if *codec == "json" {
			go jsonrpc.ServeConn(conn)
		} else {
			go rpc.ServeConn(conn)
		}
	}
}
