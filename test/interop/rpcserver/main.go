// Command rpcserver is the classic Go net/rpc Arith server, as a peer for
// netkit's RPC client. It serves Arith (Multiply, Divide) and Shapes (Echo,
// Sum, Keys: nested structs, pointers, slices and maps) with the codec and
// transport picked by flags:
//
//	-codec gob   rpc.ServeConn per connection (the default)
//	-codec json  jsonrpc.ServeConn per connection (net/rpc/jsonrpc)
//	-http        rpc.HandleHTTP + http.Serve (gob over HTTP CONNECT)
//
// It prints "listening <addr>" once ready and serves until killed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"sort"
	"time"
)

type Args struct{ A, B int }

type Quotient struct{ Quo, Rem int }

type Arith int

func (t *Arith) Multiply(args *Args, reply *int) error {
	*reply = args.A * args.B
	return nil
}

func (t *Arith) Divide(args *Args, quo *Quotient) error {
	if args.B == 0 {
		return errors.New("divide by zero")
	}
	quo.Quo = args.A / args.B
	quo.Rem = args.A % args.B
	return nil
}

// Sleep answers after args milliseconds, so calls can finish out of order.
func (t *Arith) Sleep(ms int, reply *int) error {
	time.Sleep(time.Duration(ms) * time.Millisecond)
	*reply = ms
	return nil
}

type Point struct{ X, Y int }

type Shape struct {
	Name   string
	Points []Point
	Tags   map[string]int
	Center *Point
	Scale  float64
	Big    uint64
	Neg    int64
	Ok     bool
	Raw    []byte
	Inner  Point
}

type Shapes int

func (s *Shapes) Echo(args *Shape, reply *Shape) error {
	*reply = *args
	return nil
}

func (s *Shapes) Sum(args []int, reply *int) error {
	for _, v := range args {
		*reply += v
	}
	return nil
}

func (s *Shapes) Keys(args map[string]int, reply *[]string) error {
	for k := range args {
		*reply = append(*reply, k)
	}
	sort.Strings(*reply)
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	codec := flag.String("codec", "gob", "gob or json")
	useHTTP := flag.Bool("http", false, "serve over HTTP CONNECT (gob)")
	flag.Parse()
	rpc.Register(new(Arith))
	rpc.Register(new(Shapes))
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	if *useHTTP {
		rpc.HandleHTTP()
		http.Serve(ln, nil)
		return
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "accept:", err)
			os.Exit(1)
		}
		if *codec == "json" {
			go jsonrpc.ServeConn(conn)
		} else {
			go rpc.ServeConn(conn)
		}
	}
}
