// Command wsecho is gorilla/websocket's classic echo server (its
// examples/echo), as a peer for netkit's WebSocket client.
//
// It listens on -addr, prints exactly one line "listening <addr>" to stdout
// with the real bound address (so callers can pass port 0 and learn the
// port), and serves WebSocket connections at /echo: every message is sent
// back with the type it came with. Two additions make a client's handshake
// observable: -subprotocols lists the subprotocols the server accepts (in
// its order of preference), and a request header X-Netkit-Test makes the
// server first send the text message "header:<value>". SIGTERM and SIGINT
// make it exit 0 so test harnesses see a clean shutdown.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gorilla/websocket"
)

// The zero Upgrader is what the gorilla example uses: default buffer sizes,
// no read limit, and an Origin check that only admits same-host origins.
var upgrader = websocket.Upgrader{}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		// Upgrade has already answered the client with an HTTP error.
		log.Print("upgrade:", err)
		return
	}
	defer c.Close()
	if v := r.Header.Get("X-Netkit-Test"); v != "" {
		if err := c.WriteMessage(websocket.TextMessage, []byte("header:"+v)); err != nil {
			log.Println("write:", err)
			return
		}
	}
	for {
		mt, message, err := c.ReadMessage()
		if err != nil {
			// A close frame from the client surfaces here after gorilla's
			// default close handler has already answered it.
			log.Println("read:", err)
			break
		}
		log.Printf("recv: type=%d bytes=%d %q", mt, len(message), preview(message))
		if err := c.WriteMessage(mt, message); err != nil {
			log.Println("write:", err)
			break
		}
	}
}

// preview keeps the log readable when a test sends a 1 MiB message.
func preview(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	subprotocols := flag.String("subprotocols", "", "comma-separated subprotocols the server accepts")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintf(os.Stderr, "wsecho: unexpected arguments: %v\n", flag.Args())
		os.Exit(2)
	}
	if *subprotocols != "" {
		upgrader.Subprotocols = strings.Split(*subprotocols, ",")
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wsecho: listen: %v\n", err)
		os.Exit(1)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		os.Exit(0)
	}()

	// The harness waits for this line before connecting.
	fmt.Printf("listening %s\n", ln.Addr())
	http.HandleFunc("/echo", echo)
	log.Fatal(http.Serve(ln, nil))
}
