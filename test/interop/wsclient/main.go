// Command wsclient is a gorilla/websocket client, as a peer for netkit's
// WebSocket server. It dials -url (offering the comma-separated -subprotocol
// list), runs a fixed script against an echo server and prints one JSON line
// per step. The lines hold only what the protocol fixes (no timings), so the
// output against two conforming echo servers is byte-for-byte the same.
//
// Steps: text, unicode, empty, binary (all 256 byte values), large (1 MiB),
// pipelined (100 messages written before any is read), ping (a pong with the
// ping's payload arrives), subprotocol (what the handshake negotiated) and
// close (the close code the server answers a 1000 close with). With -compress
// it offers permessage-deflate and first prints the server's answer. Any I/O error
// or wrong echo prints an "error" line and makes it exit 1.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// stepTimeout bounds every read so a server that never answers fails the
// script instead of hanging the test.
const stepTimeout = 10 * time.Second

type result map[string]interface{}

func emit(step string, r result) {
	r["step"] = step
	line, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(line))
}

func fail(step string, format string, args ...interface{}) {
	emit(step, result{"error": fmt.Sprintf(format, args...)})
	os.Exit(1)
}

func typeName(mt int) string {
	switch mt {
	case websocket.TextMessage:
		return "text"
	case websocket.BinaryMessage:
		return "binary"
	}
	return fmt.Sprintf("type%d", mt)
}

// roundTrip sends one message and reads the echo.
func roundTrip(c *websocket.Conn, step string, mt int, data []byte) (int, []byte) {
	if err := c.WriteMessage(mt, data); err != nil {
		fail(step, "write: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(stepTimeout))
	got, msg, err := c.ReadMessage()
	if err != nil {
		fail(step, "read: %v", err)
	}
	return got, msg
}

func textStep(c *websocket.Conn, step, text string) {
	mt, msg := roundTrip(c, step, websocket.TextMessage, []byte(text))
	if mt != websocket.TextMessage || string(msg) != text {
		fail(step, "echo is %s %q, want text %q", typeName(mt), msg, text)
	}
	emit(step, result{"type": typeName(mt), "data": string(msg), "bytes": len(msg)})
}

func binaryStep(c *websocket.Conn, step string, data []byte) {
	mt, msg := roundTrip(c, step, websocket.BinaryMessage, data)
	if mt != websocket.BinaryMessage || !bytes.Equal(msg, data) {
		fail(step, "echo is %s of %d bytes, not the %d bytes sent", typeName(mt), len(msg), len(data))
	}
	emit(step, result{"type": typeName(mt), "bytes": len(msg), "equal": true})
}

func pipelined(c *websocket.Conn, n int) {
	for i := 0; i < n; i++ {
		if err := c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("msg-%d", i))); err != nil {
			fail("pipelined", "write %d: %v", i, err)
		}
	}
	for i := 0; i < n; i++ {
		c.SetReadDeadline(time.Now().Add(stepTimeout))
		_, msg, err := c.ReadMessage()
		if err != nil {
			fail("pipelined", "read %d: %v", i, err)
		}
		if want := fmt.Sprintf("msg-%d", i); string(msg) != want {
			fail("pipelined", "message %d is %q, want %q", i, msg, want)
		}
	}
	emit("pipelined", result{"count": n, "inOrder": true})
}

// ping sends a ping and then a text message. Gorilla handles control frames
// only while reading, so reading the text echo is what lets the pong handler
// run; the server answers the ping before it sees the text, so the pong comes
// first on the wire.
func ping(c *websocket.Conn) {
	const payload = "netkit-ping"
	var pong string
	got := false
	start := time.Now()
	var rtt time.Duration
	c.SetPongHandler(func(appData string) error {
		if !got {
			rtt = time.Since(start)
		}
		pong, got = appData, true
		return nil
	})
	if err := c.WriteControl(websocket.PingMessage, []byte(payload), time.Now().Add(stepTimeout)); err != nil {
		fail("ping", "write ping: %v", err)
	}
	_, msg := roundTrip(c, "ping", websocket.TextMessage, []byte("after-ping"))
	if !got {
		fail("ping", "no pong before the echo of the next message")
	}
	fmt.Fprintf(os.Stderr, "wsclient: ping rtt %v\n", rtt)
	emit("ping", result{"pong": got, "payload": pong, "next": string(msg)})
}

// closeStep sends close 1000 and reads until the server's close frame ends the
// connection.
func closeStep(c *websocket.Conn) {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(stepTimeout)); err != nil {
		fail("close", "write close: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(stepTimeout))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			fail("close", "connection ended without a close frame: %v", err)
		}
		emit("close", result{"code": ce.Code})
		return
	}
}

func main() {
	url := flag.String("url", "", "WebSocket URL of an echo server")
	subprotocol := flag.String("subprotocol", "", "comma-separated subprotocols to offer")
	compress := flag.Bool("compress", false, "offer permessage-deflate and report what the server answered")
	flag.Parse()
	if *url == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: wsclient -url ws://host:port/path [-subprotocol a,b]")
		os.Exit(2)
	}
	dialer := *websocket.DefaultDialer
	dialer.HandshakeTimeout = stepTimeout
	var offered []string
	if *subprotocol != "" {
		offered = strings.Split(*subprotocol, ",")
		dialer.Subprotocols = offered
	}
	dialer.EnableCompression = *compress
	c, resp, err := dialer.Dial(*url, nil)
	if err != nil {
		fail("dial", "%v", err)
	}
	defer c.Close()
	if *compress {
		// Gorilla compresses every message it writes once the server accepts the extension.
		emit("compression", result{"extensions": resp.Header.Get("Sec-WebSocket-Extensions")})
	}

	textStep(c, "text", "hello, netkit")
	textStep(c, "unicode", "ünïcödé ✓ 你好 🚀")
	textStep(c, "empty", "")
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	binaryStep(c, "binary", all)
	large := make([]byte, 1<<20)
	for i := range large {
		// Not a repeating byte, so a dropped or reordered chunk is caught.
		large[i] = byte(i*7 + i>>8)
	}
	binaryStep(c, "large", large)
	pipelined(c, 100)
	ping(c)
	emit("subprotocol", result{"offered": offered, "negotiated": c.Subprotocol()})
	closeStep(c)
}
