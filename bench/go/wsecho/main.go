// Command wsecho is the gorilla/websocket echo server that netkit's
// WebSocket server is benchmarked against: the echo handler of gorilla's
// own example, a ReadMessage/WriteMessage loop per connection at /echo.
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

	"github.com/gorilla/websocket"
)

// maxPayload matches the plain ws server's maxPayload, so every server
// refuses the same oversized messages.
const maxPayload = 1 << 20

var upgrader = websocket.Upgrader{
	// The load generator sends no Origin; accept any, as the other servers do.
	CheckOrigin: func(*http.Request) bool { return true },
}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already answered the request with an HTTP error.
		return
	}
	defer c.Close()
	c.SetReadLimit(maxPayload)
	for {
		mt, msg, err := c.ReadMessage()
		if err != nil {
			// A close frame or a dropped connection is how every run ends;
			// the default close handler has already answered the close.
			return
		}
		if err := c.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "wsecho: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wsecho: listen: %v\n", err)
		os.Exit(1)
	}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		os.Exit(0)
	}()
	// os.Stdout is unbuffered, so the harness sees this line at once.
	if _, err := fmt.Fprintf(os.Stdout, "listening %s\n", ln.Addr()); err != nil {
		fmt.Fprintf(os.Stderr, "wsecho: write stdout: %v\n", err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", echo)
	if err := http.Serve(ln, mux); err != nil {
		fmt.Fprintf(os.Stderr, "wsecho: serve: %v\n", err)
		os.Exit(1)
	}
}
