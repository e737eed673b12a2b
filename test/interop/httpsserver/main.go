// Command httpsserver is Go's net/http hello server over TLS, as a peer for
// netkit's HTTPS client. It uses httptest's built-in self-signed certificate
// (valid for 127.0.0.1 and example.com), prints the listening URL on the
// first line and the certificate as PEM after it, so a client can trust it.
package main

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
)

func main() {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-TLS-Version", fmt.Sprintf("%x", r.TLS.Version))
		fmt.Fprintf(w, "Hello, you've requested: %s\n", r.URL.Path)
	}))
	defer srv.Close()
	fmt.Printf("listening %s\n", srv.URL)
	pem.Encode(os.Stdout, &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	os.Stdout.Sync()
	// Serve until stdin closes (the test ends) or the process is killed.
	buf := make([]byte, 1)
	os.Stdin.Read(buf)
}
