// Command tlsechoserver is an echo server on Go's crypto/tls, as a peer for
// netkit's TLS clients. It serves -cert/-key on -addr and prints one line
// "listening <addr>" with the bound address. With -client-ca it requires a
// client certificate signed by that CA (tls.RequireAndVerifyClientCert);
// -tls12 caps the version at TLS 1.2.
//
// Every connection echoes what it reads until EOF, then closes. When it ends,
// one JSON line tells what happened: {"handshake":"ok" or the error,
// "version", "alpn", "client" (the client certificate's subject, or ""),
// "bytes" (application bytes read after the handshake)}. A client that
// refuses the certificate must leave "bytes":0. It runs until killed.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

type report struct {
	Handshake string `json:"handshake"`
	Version   string `json:"version"`
	ALPN      string `json:"alpn"`
	Client    string `json:"client"`
	Bytes     int64  `json:"bytes"`
}

var out sync.Mutex

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	cert := flag.String("cert", "", "server certificate, PEM (required)")
	key := flag.String("key", "", "server private key, PEM (required)")
	clientCA := flag.String("client-ca", "", "PEM file of the CAs a client certificate must chain to")
	alpn := flag.String("alpn", "", "comma-separated ALPN protocols to accept")
	tls12 := flag.Bool("tls12", false, "speak TLS 1.2 at most")
	flag.Parse()
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlsechoserver: %v\n", err)
		os.Exit(2)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if *tls12 {
		cfg.MaxVersion = tls.VersionTLS12
	}
	if *alpn != "" {
		cfg.NextProtos = strings.Split(*alpn, ",")
	}
	if *clientCA != "" {
		pemBytes, err := os.ReadFile(*clientCA)
		if err != nil {
			fmt.Fprintf(os.Stderr, "tlsechoserver: %v\n", err)
			os.Exit(2)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			fmt.Fprintf(os.Stderr, "tlsechoserver: %s holds no certificate\n", *clientCA)
			os.Exit(2)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "tlsechoserver: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", ln.Addr())
	for {
		raw, err := ln.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "tlsechoserver: accept: %v\n", err)
			os.Exit(1)
		}
		go serve(tls.Server(raw, cfg))
	}
}

func serve(c *tls.Conn) {
	defer c.Close()
	r := report{}
	defer func() {
		line, _ := json.Marshal(r)
		out.Lock()
		fmt.Println(string(line))
		out.Unlock()
	}()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if err := c.Handshake(); err != nil {
		r.Handshake = err.Error()
		return
	}
	s := c.ConnectionState()
	r.Handshake = "ok"
	r.ALPN = s.NegotiatedProtocol
	r.Version = map[uint16]string{tls.VersionTLS12: "TLS1.2", tls.VersionTLS13: "TLS1.3"}[s.Version]
	if len(s.PeerCertificates) > 0 {
		r.Client = s.PeerCertificates[0].Subject.String()
	}
	buf := make([]byte, 32*1024)
	for {
		n, err := c.Read(buf)
		r.Bytes += int64(n)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
