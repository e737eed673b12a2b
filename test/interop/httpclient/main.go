// Command httpclient is the classic Go net/http client, as a peer for
// netkit's HTTP server: it GETs a URL (or POSTs -data) and prints the status
// code, one chosen header and the body.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	url := flag.String("url", "", "URL to request")
	data := flag.String("data", "", "POST this body (GET when empty)")
	accept := flag.String("accept", "", "Accept header")
	flag.Parse()
	client := &http.Client{Timeout: 5 * time.Second}
	method, body := "GET", io.Reader(nil)
	if *data != "" {
		method, body = "POST", strings.NewReader(*data)
	}
	req, err := http.NewRequest(method, *url, body)
	if err != nil {
		fmt.Fprintln(os.Stderr, "request:", err)
		os.Exit(1)
	}
	if *accept != "" {
		req.Header.Set("Accept", *accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "do:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		os.Exit(1)
	}
	fmt.Printf("status %d\ncontent-type %s\n\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
}
