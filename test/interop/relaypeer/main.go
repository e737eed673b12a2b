// Command relaypeer is one end of a TCP connection that netkit's relay
// carries, for tests that must see what a real Go peer sees: every byte
// (as SHA-256 digests, so gigabytes need no memory), a half-close, a reset.
//
// With -listen it accepts exactly one connection, prints "listening <addr>"
// first (port 0 works); with -dial it connects. Either way it then runs
// -mode and prints one JSON line with what it sent and received, and exits
// 1 if the exchange failed:
//
//	stream            write -bytes of a pseudo-random stream (AES-CTR keyed by
//	                  -seed) while reading to EOF; CloseWrite after the last byte
//	write-then-read   write -bytes, CloseWrite, then read to EOF (a client that
//	                  half-closes to say "that was my request")
//	read-then-write   read to EOF, then write -bytes and close (a server that
//	                  answers only once the request is complete)
//	reset             read -bytes, then close with SO_LINGER 0 (RST)
//	expect-reset      write -bytes, then read until the connection fails,
//	                  reporting whether it was a reset
//
// Only the standard library is used.
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// result is the one JSON line printed; the test compares one side's sent
// digest with the other side's received digest.
type result struct {
	Role           string  `json:"role"`
	Mode           string  `json:"mode"`
	Sent           int64   `json:"sent"`
	SentSHA256     string  `json:"sentSha256"`
	Received       int64   `json:"received"`
	ReceivedSHA256 string  `json:"receivedSha256"`
	Ms             float64 `json:"ms"`
	Error          string  `json:"error,omitempty"`
	Reset          bool    `json:"reset,omitempty"`
}

// keystream is an endless pseudo-random byte source: AES-CTR over zeros
// runs at gigabytes per second, so the generator never limits a
// throughput measurement, and a seed makes each direction distinct.
type keystream struct{ s cipher.Stream }

func newKeystream(seed uint64) *keystream {
	key := make([]byte, 16)
	binary.BigEndian.PutUint64(key, seed)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	return &keystream{cipher.NewCTR(block, make([]byte, aes.BlockSize))}
}

func (k *keystream) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	k.s.XORKeyStream(p, p)
	return len(p), nil
}

// counter hashes and counts what passes through it.
type counter struct {
	h hash.Hash
	n int64
}

func newCounter() *counter { return &counter{h: sha256.New()} }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

func (c *counter) sum() string { return hex.EncodeToString(c.h.Sum(nil)) }

const chunk = 256 << 10

// send writes n keystream bytes to conn, hashing them on the way.
func send(conn net.Conn, n int64, seed uint64, sent *counter) error {
	src := io.LimitReader(newKeystream(seed), n)
	buf := make([]byte, chunk)
	_, err := io.CopyBuffer(conn, io.TeeReader(src, sent), buf)
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// receive reads conn to EOF, hashing what arrives.
func receive(conn net.Conn, got *counter) error {
	buf := make([]byte, chunk)
	// io.CopyBuffer would use conn's WriterTo/ReaderFrom fast paths and skip buf; a plain
	// loop keeps the read size fixed.
	for {
		n, err := conn.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
	}
}

func closeWrite(conn net.Conn) error {
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}
	return nil
}

func run(conn net.Conn, role, mode string, n int64, seed uint64) result {
	r := result{Role: role, Mode: mode}
	sent, got := newCounter(), newCounter()
	start := time.Now()
	var err error
	switch mode {
	case "stream":
		done := make(chan error, 1)
		go func() {
			err := send(conn, n, seed, sent)
			if err == nil {
				err = closeWrite(conn)
			}
			done <- err
		}()
		rerr := receive(conn, got)
		err = <-done
		if err == nil {
			err = rerr
		}
	case "write-then-read":
		err = send(conn, n, seed, sent)
		if err == nil {
			err = closeWrite(conn)
		}
		if err == nil {
			err = receive(conn, got)
		}
	case "read-then-write":
		err = receive(conn, got)
		if err == nil {
			err = send(conn, n, seed, sent)
		}
	case "reset":
		_, err = io.CopyN(got, conn, n)
		if err == nil {
			err = conn.(*net.TCPConn).SetLinger(0)
		}
	case "expect-reset":
		err = send(conn, n, seed, sent)
		if err == nil {
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			rerr := receive(conn, got)
			if rerr == nil {
				err = errors.New("read: EOF where a reset was expected")
			} else {
				r.Error = rerr.Error()
				r.Reset = errors.Is(rerr, syscall.ECONNRESET)
			}
		}
	default:
		err = fmt.Errorf("unknown -mode %q", mode)
	}
	r.Ms = float64(time.Since(start).Microseconds()) / 1000
	r.Sent, r.SentSHA256 = sent.n, sent.sum()
	r.Received, r.ReceivedSHA256 = got.n, got.sum()
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

func main() {
	listen := flag.String("listen", "", "accept one connection on this address")
	dial := flag.String("dial", "", "connect to this address")
	mode := flag.String("mode", "stream", "stream, write-then-read, read-then-write, reset or expect-reset")
	n := flag.Int64("bytes", 1<<20, "bytes to send (reset: to read)")
	seed := flag.Uint64("seed", 1, "seed of the pseudo-random stream")
	timeout := flag.Duration("timeout", 60*time.Second, "deadline for the whole exchange")
	flag.Parse()
	if (*listen == "") == (*dial == "") || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: relaypeer (-listen ADDR | -dial ADDR) [-mode M] [-bytes N] [-seed S]")
		os.Exit(2)
	}
	var conn net.Conn
	role := "client"
	if *listen != "" {
		role = "server"
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintf(os.Stderr, "relaypeer: listen: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("listening %s\n", ln.Addr())
		// A relay that never connects must fail the test, not leave this process waiting.
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(*timeout))
		conn, err = ln.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "relaypeer: accept: %v\n", err)
			os.Exit(1)
		}
		ln.Close()
	} else {
		var err error
		conn, err = net.DialTimeout("tcp", *dial, 10*time.Second)
		if err != nil {
			fmt.Fprintf(os.Stderr, "relaypeer: dial: %v\n", err)
			os.Exit(1)
		}
	}
	conn.SetDeadline(time.Now().Add(*timeout))
	r := run(conn, role, *mode, *n, *seed)
	conn.Close()
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
	// expect-reset succeeds by seeing the reset; anything else must end cleanly.
	if r.Error != "" && !(*mode == "expect-reset" && r.Reset) {
		os.Exit(1)
	}
}
