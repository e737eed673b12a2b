// Command rpcclient is the classic Go net/rpc client, as a peer for netkit's
// RPC server. It dials -addr with rpc.Dial (gob), jsonrpc.Dial (-codec json)
// or rpc.DialHTTP (-http), runs a fixed script of calls and prints one line
// per call, "name result" or "name error: text", then "done".
//
// The server must offer Arith.Multiply, Arith.Divide, Arith.Sleep (replies
// with its argument after that many ms), Shapes.Echo, Shapes.Sum and
// Shapes.Keys, as test/interop/rpcserver does.
package main

import (
	"flag"
	"fmt"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"sync"
)

type Args struct{ A, B int }

type Quotient struct{ Quo, Rem int }

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

func main() {
	addr := flag.String("addr", "", "server address")
	codec := flag.String("codec", "gob", "gob or json")
	useHTTP := flag.Bool("http", false, "dial with rpc.DialHTTP")
	concurrent := flag.Int("concurrent", 200, "calls in flight for the concurrency check")
	flag.Parse()
	var client *rpc.Client
	var err error
	switch {
	case *useHTTP:
		client, err = rpc.DialHTTP("tcp", *addr)
	case *codec == "json":
		client, err = jsonrpc.Dial("tcp", *addr)
	default:
		client, err = rpc.Dial("tcp", *addr)
	}
	if err != nil {
		fmt.Println("dial error:", err)
		os.Exit(1)
	}
	defer client.Close()
	report := func(name string, err error, result interface{}) {
		if err != nil {
			fmt.Printf("%s error: %v\n", name, err)
		} else {
			fmt.Printf("%s %+v\n", name, result)
		}
	}

	var product int
	report("multiply", client.Call("Arith.Multiply", &Args{7, 8}, &product), product)
	var quo Quotient
	report("divide", client.Call("Arith.Divide", &Args{17, 5}, &quo), quo)
	var zero Quotient
	report("divide-by-zero", client.Call("Arith.Divide", &Args{1, 0}, &zero), zero)
	var none int
	report("unknown-service", client.Call("Nope.Multiply", &Args{1, 2}, &none), none)
	report("unknown-method", client.Call("Arith.Nope", &Args{1, 2}, &none), none)
	report("ill-formed", client.Call("NoDot", &Args{1, 2}, &none), none)
	// The connection must still work after errors.
	report("multiply-again", client.Call("Arith.Multiply", &Args{-3, 4}, &product), product)

	in := Shape{
		Name:   "tri",
		Points: []Point{{1, 2}, {3, 4}, {0, -5}},
		Tags:   map[string]int{"a": 1},
		Center: &Point{7, 8},
		Scale:  1.5,
		Big:    1<<63 + 5,
		Neg:    -1 << 40,
		Ok:     true,
		Raw:    []byte{0, 1, 255},
		Inner:  Point{9, 0},
	}
	var out Shape
	err = client.Call("Shapes.Echo", &in, &out)
	if err == nil && out.Center != nil {
		fmt.Printf("echo %s %v %v %v %v %v %d %d %v %v %v\n", out.Name, out.Points, out.Tags, *out.Center, out.Scale, out.Ok, out.Big, out.Neg, out.Raw, out.Inner, out.Name == in.Name)
	} else {
		report("echo", err, out)
	}
	var sum int
	report("sum", client.Call("Shapes.Sum", []int{1, 2, 3, 400}, &sum), sum)
	var keys []string
	report("keys", client.Call("Shapes.Keys", map[string]int{"b": 2, "a": 1, "c": 3}, &keys), keys)

	// Many calls in flight on one connection, finishing out of order.
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for i := 0; i < *concurrent; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var r int
			ms := (i * 7) % 20
			if err := client.Call("Arith.Sleep", ms, &r); err != nil || r != ms {
				mu.Lock()
				bad++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	fmt.Printf("concurrent %d bad %d\n", *concurrent, bad)
	fmt.Println("done")
}
