// Command wsrooms checks a broadcast WebSocket server's rooms with three
// gorilla/websocket clients: a and b join the room at -r1, c the room at -r2.
// A broadcast is expected to reach every client of the sender's room,
// the sender included, and no other room.
//
// The script is ordered so that a message leaking into the wrong room shows
// up as the wrong *next* message rather than needing a timeout: a sends
// "hello r1" (a and b read it), then c sends "hello r2" (c's next message must
// be its own, not a's), then b sends a binary message and a sends "bye r1"
// (a's and b's next messages must be those, not c's). It prints one JSON line
// per client with the messages it read, text as "text:<data>" and binary as
// "binary:<hex>", then closes all three with 1000. Any error prints an
// "error" line and makes it exit 1.
package main

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gorilla/websocket"
)

type client struct {
	name, room string
	conn       *websocket.Conn
	received   []string
}

func fail(format string, args ...interface{}) {
	line, _ := json.Marshal(map[string]string{"error": fmt.Sprintf(format, args...)})
	fmt.Println(string(line))
	os.Exit(1)
}

func dial(name, room, url string) *client {
	d := *websocket.DefaultDialer
	d.HandshakeTimeout = 10 * time.Second
	c, _, err := d.Dial(url, nil)
	if err != nil {
		fail("%s: dial %s: %v", name, url, err)
	}
	return &client{name: name, room: room, conn: c}
}

func (c *client) send(mt int, data []byte) {
	if err := c.conn.WriteMessage(mt, data); err != nil {
		fail("%s: write: %v", c.name, err)
	}
}

// next reads one message and records it.
func (c *client) next() {
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	mt, msg, err := c.conn.ReadMessage()
	if err != nil {
		fail("%s: read: %v", c.name, err)
	}
	if mt == websocket.BinaryMessage {
		c.received = append(c.received, "binary:"+hex.EncodeToString(msg))
	} else {
		c.received = append(c.received, "text:"+string(msg))
	}
}

func main() {
	r1 := flag.String("r1", "", "URL of the first room (clients a and b)")
	r2 := flag.String("r2", "", "URL of the second room (client c)")
	flag.Parse()
	if *r1 == "" || *r2 == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: wsrooms -r1 ws://host/chat/r1 -r2 ws://host/chat/r2")
		os.Exit(2)
	}
	a := dial("a", "r1", *r1)
	b := dial("b", "r1", *r1)
	c := dial("c", "r2", *r2)

	a.send(websocket.TextMessage, []byte("hello r1"))
	a.next()
	b.next()
	c.send(websocket.TextMessage, []byte("hello r2"))
	c.next()
	b.send(websocket.BinaryMessage, []byte{0, 1, 2, 255})
	a.next()
	b.next()
	a.send(websocket.TextMessage, []byte("bye r1"))
	a.next()
	b.next()

	for _, cl := range []*client{a, b, c} {
		line, _ := json.Marshal(map[string]interface{}{"client": cl.name, "room": cl.room, "received": cl.received})
		fmt.Println(string(line))
		cl.close()
	}
}

// close sends close 1000 and waits for the server's close frame, so the
// server sees a clean closing handshake rather than a dropped connection.
func (c *client) close() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			break
		}
	}
	c.conn.Close()
}
