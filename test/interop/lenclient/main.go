// Command lenclient provokes "sticky packets" against a len32 echo server.
//
// It builds -frames frames with pseudo-random payload sizes 0..300 bytes
// (math/rand seeded with -seed, so a failing run can be reproduced exactly),
// each encoded as a 4-byte big-endian length followed by the payload. All
// frames are concatenated into ONE buffer and sent with a single Write, so
// the server sees frame boundaries that have nothing to do with TCP segment
// or read boundaries. It then half-closes (CloseWrite), reads the echoed
// frames with io.ReadFull for prefix and body, checks every frame in order,
// and requires EOF right after the last one.
//
// On success it prints one JSON line {"frames":N,"bytes":B,"ok":true}, where
// B is the total number of bytes sent (and therefore echoed), prefixes
// included. On failure it prints an error naming the first bad frame index to
// stderr and exits 1.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"time"
)

// maxPayload is the largest payload size drawn (inclusive).
const maxPayload = 300

func main() {
	addr := flag.String("addr", "", "TCP address of the len32 echo server (required)")
	frames := flag.Int("frames", 1000, "number of frames to send")
	seed := flag.Int64("seed", 1, "math/rand seed for payload sizes and contents")
	// Not in the original brief, but keeps a stalled server from hanging a
	// test run forever.
	timeout := flag.Duration("timeout", 30*time.Second, "overall deadline for the whole exchange (0 = none)")
	flag.Parse()
	if *addr == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "lenclient: -addr is required and no positional arguments are accepted")
		flag.Usage()
		os.Exit(2)
	}
	if *frames < 0 {
		fmt.Fprintln(os.Stderr, "lenclient: -frames must be >= 0")
		os.Exit(2)
	}
	total, err := run(*addr, *frames, *seed, *timeout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lenclient: %v\n", err)
		os.Exit(1)
	}
	out, err := json.Marshal(struct {
		Frames int  `json:"frames"`
		Bytes  int  `json:"bytes"`
		OK     bool `json:"ok"`
	}{*frames, total, true})
	if err != nil {
		fmt.Fprintf(os.Stderr, "lenclient: encode result: %v\n", err)
		os.Exit(1)
	}
	if _, err := fmt.Fprintln(os.Stdout, string(out)); err != nil {
		fmt.Fprintf(os.Stderr, "lenclient: write stdout: %v\n", err)
		os.Exit(1)
	}
}

// buildFrames returns the payloads and their concatenated len32 encoding.
func buildFrames(n int, seed int64) ([][]byte, []byte) {
	rng := rand.New(rand.NewSource(seed))
	payloads := make([][]byte, n)
	zero := false
	for i := range payloads {
		p := make([]byte, rng.Intn(maxPayload+1))
		rng.Read(p) // random contents so reordering or corruption is detected
		payloads[i] = p
		if len(p) == 0 {
			zero = true
		}
	}
	// Zero-length frames are the classic edge case for framing code; make
	// sure at least one is present even when the draw did not produce one
	// (placed mid-stream so it sits between non-empty frames).
	if n > 0 && !zero {
		payloads[n/2] = []byte{}
	}
	size := 0
	for _, p := range payloads {
		size += 4 + len(p)
	}
	buf := make([]byte, 0, size)
	var hdr [4]byte
	for _, p := range payloads {
		binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
		buf = append(buf, hdr[:]...)
		buf = append(buf, p...)
	}
	return payloads, buf
}

func run(addr string, n int, seed int64, timeout time.Duration) (int, error) {
	payloads, buf := buildFrames(n, seed)

	d := net.Dialer{Timeout: timeout}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("dial: %w", err)
	}
	defer conn.Close()
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return 0, errors.New("connection is not TCP; cannot half-close")
	}
	if timeout > 0 {
		if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
			return 0, fmt.Errorf("set deadline: %w", err)
		}
	}

	// The reader runs concurrently with the single big Write: the server
	// echoes while we are still sending, and if nobody drained the echo,
	// both sides' socket buffers could fill and deadlock for large -frames.
	readErr := make(chan error, 1)
	go func() { readErr <- verify(bufio.NewReader(conn), payloads) }()

	if _, err := conn.Write(buf); err != nil {
		// The read side usually knows the real cause (e.g. the server closed
		// after a bad frame), so prefer its error if it has one.
		select {
		case rerr := <-readErr:
			if rerr != nil {
				return 0, rerr
			}
		case <-time.After(100 * time.Millisecond):
		}
		return 0, fmt.Errorf("write %d bytes: %w", len(buf), err)
	}
	if err := tc.CloseWrite(); err != nil {
		return 0, fmt.Errorf("close write: %w", err)
	}
	if err := <-readErr; err != nil {
		return 0, err
	}
	return len(buf), nil
}

// verify reads len(want) len32 frames from r, compares each with want in
// order, and then requires EOF.
func verify(r io.Reader, want [][]byte) error {
	var hdr [4]byte
	body := make([]byte, maxPayload)
	for i, w := range want {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return fmt.Errorf("frame %d of %d: read length prefix: %w", i, len(want), eofHint(err))
		}
		got := binary.BigEndian.Uint32(hdr[:])
		if got != uint32(len(w)) {
			return fmt.Errorf("frame %d of %d: length mismatch: got %d, want %d", i, len(want), got, len(w))
		}
		b := body[:got]
		if _, err := io.ReadFull(r, b); err != nil {
			return fmt.Errorf("frame %d of %d: read %d-byte body: %w", i, len(want), got, eofHint(err))
		}
		if !bytes.Equal(b, w) {
			off := 0
			for off < len(b) && b[off] == w[off] {
				off++
			}
			return fmt.Errorf("frame %d of %d: payload mismatch at byte %d (got 0x%02x, want 0x%02x)", i, len(want), off, b[off], w[off])
		}
	}
	// The server must close after echoing everything: any extra byte means
	// it invented or duplicated data.
	var extra [1]byte
	n, err := r.Read(extra[:])
	for n == 0 && err == nil {
		n, err = r.Read(extra[:])
	}
	if n > 0 {
		return fmt.Errorf("frame %d: unexpected data after the last frame (first byte 0x%02x), want EOF", len(want), extra[0])
	}
	if err != io.EOF {
		return fmt.Errorf("after last frame: want EOF, got: %w", err)
	}
	return nil
}

// eofHint turns the bare io.EOF/io.ErrUnexpectedEOF into a clearer message.
func eofHint(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("server closed early (%v)", err)
	}
	return err
}
