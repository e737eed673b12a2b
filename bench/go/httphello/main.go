// Command httphello is the classic Go net/http hello server that netkit's
// HTTP server is benchmarked against: every request is answered with
// "Hello, you've requested: <path>\n" as text/plain.
//
// It listens on -addr, prints exactly one line "listening <addr>" to stdout
// with the real bound address, uses all cores (GOMAXPROCS is left at its
// default) and runs until killed; SIGTERM and SIGINT exit 0.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "httphello: listen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		os.Exit(0)
	}()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "Hello, you've requested: %s\n", r.URL.Path)
	})
	if err := http.Serve(ln, nil); err != nil {
		fmt.Fprintf(os.Stderr, "httphello: serve: %v\n", err)
		os.Exit(1)
	}
}
