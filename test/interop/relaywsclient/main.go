// Command relaywsclient is a gorilla/websocket client that talks to a
// line-echo TCP server (test/interop/lineserver -echo) through netkit's
// relay listening on ws://. It sends lines as binary messages, one of them
// split across two messages and one of 100,000 bytes, reads binary
// messages until every line has come back, closes with 1000 and prints
// one JSON line: how many messages came back, whether every one was
// binary, whether their bytes are exactly what was sent, and the close
// code the relay answered with. Any failure prints an "error" field and
// makes it exit 1.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gorilla/websocket"
)

const stepTimeout = 10 * time.Second

type result struct {
	Sent       int    `json:"sent"`
	Messages   int    `json:"messages"`
	AllBinary  bool   `json:"allBinary"`
	ReplyBytes int    `json:"replyBytes"`
	Equal      bool   `json:"equal"`
	CloseCode  int    `json:"closeCode"`
	Error      string `json:"error,omitempty"`
}

func main() {
	url := flag.String("url", "", "ws:// URL of the relay")
	flag.Parse()
	if *url == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: relaywsclient -url ws://host:port/path")
		os.Exit(2)
	}
	r := run(*url)
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
	if r.Error != "" {
		os.Exit(1)
	}
}

func run(url string) (r result) {
	dialer := *websocket.DefaultDialer
	dialer.HandshakeTimeout = stepTimeout
	c, _, err := dialer.Dial(url, nil)
	if err != nil {
		r.Error = fmt.Sprintf("dial: %v", err)
		return r
	}
	defer c.Close()

	long := make([]byte, 100000)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	long = append(long, '\n')
	// "hel" + "lo 1\n…" shows the relay carries bytes, not messages: the line server sees one line.
	msgs := [][]byte{[]byte("hello 0\n"), []byte("hel"), []byte("lo 1\nhello 2\n"), long}
	var sent []byte
	for i, m := range msgs {
		if err := c.WriteMessage(websocket.BinaryMessage, m); err != nil {
			r.Error = fmt.Sprintf("write %d: %v", i, err)
			return r
		}
		sent = append(sent, m...)
	}
	r.Sent = len(sent)

	var reply []byte
	r.AllBinary = true
	for len(reply) < len(sent) {
		c.SetReadDeadline(time.Now().Add(stepTimeout))
		mt, data, err := c.ReadMessage()
		if err != nil {
			r.Error = fmt.Sprintf("read after %d of %d bytes: %v", len(reply), len(sent), err)
			return r
		}
		r.Messages++
		if mt != websocket.BinaryMessage {
			r.AllBinary = false
		}
		reply = append(reply, data...)
	}
	r.ReplyBytes = len(reply)
	r.Equal = bytes.Equal(reply, sent)

	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done")
	if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(stepTimeout)); err != nil {
		r.Error = fmt.Sprintf("write close: %v", err)
		return r
	}
	c.SetReadDeadline(time.Now().Add(stepTimeout))
	for {
		_, data, err := c.ReadMessage()
		if err == nil {
			r.Error = fmt.Sprintf("%d unexpected bytes after every line came back", len(data))
			return r
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			r.Error = fmt.Sprintf("connection ended without a close frame: %v", err)
			return r
		}
		r.CloseCode = ce.Code
		return r
	}
}
