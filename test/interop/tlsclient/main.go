// Command tlsclient speaks TLS with Go's crypto/tls, as a peer for netkit's
// TLS servers. It dials -addr and runs one protocol over the connection:
//
//	line     n lines "<msg> <i>\n", one echoed line read back after each,
//	         then CloseWrite (close_notify) and a read to EOF
//	rpc      net/rpc (gob) over tls.Conn: Arith.Multiply 7*8, Arith.Divide 17/5
//	jsonrpc  the same calls with net/rpc/jsonrpc
//	ws       gorilla/websocket on wss://addr/echo: a text and a 1 MiB binary echo
//	https    net/http GET https://addr/netkit, offering h2 and http/1.1
//
// Trust comes from -cacert (a PEM file: a CA or the self-signed certificate
// itself) or from -pin sha256:<hex>, which accepts exactly the certificate
// whose DER SHA-256 it names, CA or not. -cert/-key present a client
// certificate whenever the server asks for one; -tls12 caps the version. Every step prints one line: "handshake <version> alpn=<proto>"
// once the handshake is done, then the protocol's results, then "done".
// A failure prints "error <stage>: <text>" (stage handshake, write, read...)
// and exits 1, so a test can tell a refused handshake from a refused read.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

type Args struct{ A, B int }

type Quotient struct{ Quo, Rem int }

func main() {
	addr := flag.String("addr", "", "host:port to dial (required)")
	proto := flag.String("proto", "line", "line, rpc, jsonrpc, ws or https")
	cacert := flag.String("cacert", "", "PEM file of the certificates to trust (a CA, or a self-signed server)")
	pin := flag.String("pin", "", "sha256:<hex> of the one server certificate to accept")
	cert := flag.String("cert", "", "client certificate, PEM")
	key := flag.String("key", "", "client private key, PEM")
	serverName := flag.String("servername", "localhost", "name sent in SNI and checked against the certificate")
	alpn := flag.String("alpn", "", "comma-separated ALPN protocols to offer (line only)")
	n := flag.Int("n", 3, "lines to send (line)")
	msg := flag.String("msg", "hello", "line prefix (line)")
	tls12 := flag.Bool("tls12", false, "speak TLS 1.2 at most")
	timeout := flag.Duration("timeout", 10*time.Second, "deadline for the whole exchange")
	flag.Parse()
	if *addr == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "tlsclient: -addr is required and no positional arguments are accepted")
		os.Exit(2)
	}
	cfg, err := config(*cacert, *pin, *cert, *key, *serverName)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlsclient: %v\n", err)
		os.Exit(2)
	}
	if *alpn != "" {
		cfg.NextProtos = strings.Split(*alpn, ",")
	}
	if *tls12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	// Keeps a broken server from hanging a test run.
	time.AfterFunc(*timeout, func() { fail("timeout", fmt.Errorf("no result within %v", *timeout)) })
	switch *proto {
	case "line":
		line(*addr, cfg, *n, *msg)
	case "rpc", "jsonrpc":
		rpcCalls(*addr, cfg, *proto == "jsonrpc")
	case "ws":
		ws(*addr, cfg)
	case "https":
		get(*addr, cfg)
	default:
		fmt.Fprintf(os.Stderr, "tlsclient: unknown -proto %q\n", *proto)
		os.Exit(2)
	}
	fmt.Println("done")
}

// config builds the client's TLS configuration from the flags.
func config(cacert, pin, cert, key, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12}
	if cacert != "" {
		pemBytes, err := os.ReadFile(cacert)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("%s holds no PEM certificate", cacert)
		}
		cfg.RootCAs = pool
	}
	if pin != "" {
		want, err := hex.DecodeString(strings.TrimPrefix(pin, "sha256:"))
		if err != nil || len(want) != sha256.Size {
			return nil, fmt.Errorf("-pin %q is not sha256:<64 hex digits>", pin)
		}
		// The chain is not verified at all: the pin alone decides, which is
		// how a client trusts a server's ephemeral self-signed certificate.
		cfg.InsecureSkipVerify = true
		cfg.VerifyPeerCertificate = func(rawCerts [][]byte, _ [][]*x509.Certificate) error {
			if len(rawCerts) == 0 {
				return errors.New("pin: the server sent no certificate")
			}
			got := sha256.Sum256(rawCerts[0])
			if !bytes.Equal(got[:], want) {
				return fmt.Errorf("pin mismatch: certificate is sha256:%x", got)
			}
			return nil
		}
	}
	if cert != "" || key != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, err
		}
		// Sent whatever CAs the server names: by default Go sends none that
		// the server's list does not cover, and a test of a server refusing
		// a stranger's certificate needs it sent.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &pair, nil
		}
	}
	return cfg, nil
}

func fail(stage string, err error) {
	fmt.Printf("error %s: %v\n", stage, err)
	os.Exit(1)
}

func versionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "TLS1.2"
	case tls.VersionTLS13:
		return "TLS1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

func printState(s tls.ConnectionState) {
	fmt.Printf("handshake %s alpn=%s\n", versionName(s.Version), s.NegotiatedProtocol)
}

// handshake dials and runs the TLS handshake as its own stage, so a
// refused handshake is told apart from a refusal that comes on first read
// (in TLS 1.3 the server checks a client certificate after the client is done).
func handshake(addr string, cfg *tls.Config) *tls.Conn {
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		fail("dial", err)
	}
	c := tls.Client(raw, cfg)
	if err := c.Handshake(); err != nil {
		fail("handshake", err)
	}
	printState(c.ConnectionState())
	return c
}

func line(addr string, cfg *tls.Config, n int, msg string) {
	c := handshake(addr, cfg)
	defer c.Close()
	r := bufio.NewReader(c)
	for i := 0; i < n; i++ {
		if _, err := fmt.Fprintf(c, "%s %d\n", msg, i); err != nil {
			fail("write", err)
		}
		l, err := r.ReadString('\n')
		if err != nil {
			fail("read", err)
		}
		fmt.Printf("reply: %s\n", strings.TrimRight(l, "\r\n"))
	}
	// close_notify, then the TCP half-close: the server sees a clean EOF
	// and may still answer.
	if err := c.CloseWrite(); err != nil {
		fail("closewrite", err)
	}
	if err := c.NetConn().(*net.TCPConn).CloseWrite(); err != nil {
		fail("closewrite", err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		fail("read after close", err)
	}
	if len(rest) > 0 {
		fail("read after close", fmt.Errorf("unexpected %q", rest))
	}
	fmt.Println("eof")
}

func rpcCalls(addr string, cfg *tls.Config, json bool) {
	c := handshake(addr, cfg)
	var client *rpc.Client
	if json {
		client = jsonrpc.NewClient(c)
	} else {
		client = rpc.NewClient(c)
	}
	defer client.Close()
	var product int
	if err := client.Call("Arith.Multiply", &Args{7, 8}, &product); err != nil {
		fail("call", err)
	}
	fmt.Printf("multiply %d\n", product)
	var quo Quotient
	if err := client.Call("Arith.Divide", &Args{17, 5}, &quo); err != nil {
		fail("call", err)
	}
	fmt.Printf("divide %+v\n", quo)
	var zero Quotient
	fmt.Printf("divide-by-zero %v\n", client.Call("Arith.Divide", &Args{1, 0}, &zero))
}

func ws(addr string, cfg *tls.Config) {
	cfg.NextProtos = []string{"http/1.1"}
	d := websocket.Dialer{TLSClientConfig: cfg, HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial("wss://"+addr+"/echo", nil)
	if err != nil {
		fail("dial", err)
	}
	defer c.Close()
	printState(c.UnderlyingConn().(*tls.Conn).ConnectionState())
	fmt.Printf("upgrade %d\n", resp.StatusCode)
	if err := c.WriteMessage(websocket.TextMessage, []byte("hello over wss")); err != nil {
		fail("write", err)
	}
	mt, data, err := c.ReadMessage()
	if err != nil {
		fail("read", err)
	}
	fmt.Printf("text %v %q\n", mt == websocket.TextMessage, data)
	// Many TLS records each way, so record boundaries never line up with frames.
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	if err := c.WriteMessage(websocket.BinaryMessage, big); err != nil {
		fail("write", err)
	}
	mt, data, err = c.ReadMessage()
	if err != nil {
		fail("read", err)
	}
	fmt.Printf("binary %v %d equal=%v\n", mt == websocket.BinaryMessage, len(data), bytes.Equal(data, big))
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := c.WriteMessage(websocket.CloseMessage, msg); err != nil {
		fail("write", err)
	}
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		fail("close", fmt.Errorf("want a close frame, got %v", err))
	}
	fmt.Printf("close %d\n", ce.Code)
}

func get(addr string, cfg *tls.Config) {
	// h2 is offered too: the server must choose http/1.1, the only one it speaks.
	cfg.NextProtos = []string{"h2", "http/1.1"}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	resp, err := client.Get("https://" + addr + "/netkit")
	if err != nil {
		fail("get", err)
	}
	defer resp.Body.Close()
	printState(*resp.TLS)
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fail("read", err)
	}
	fmt.Printf("status %d %s\n", resp.StatusCode, resp.Proto)
	fmt.Printf("body %q\n", body)
}
