// Command resolve prints Go's net.ResolveTCPAddr / net.ResolveUDPAddr result
// for each "network<TAB>address" line read from stdin, one JSON object per
// line, so netkit's resolver can be checked against Go's exact behaviour.
// Run it with GODEBUG=netdns=go so Go uses its own resolver (hosts file,
// isDomainName check) instead of cgo/getaddrinfo.
package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"strings"
)

type result struct {
	Network string `json:"network"`
	Address string `json:"address"`
	OK      bool   `json:"ok"`
	IP      string `json:"ip"`
	Port    int    `json:"port"`
	Zone    string `json:"zone"`
	Err     string `json:"err"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		line := in.Text()
		network, address, _ := strings.Cut(line, "\t")
		r := result{Network: network, Address: address}
		var ip net.IP
		var port int
		var zone string
		var err error
		// Networks starting with "udp" go to ResolveUDPAddr; everything else
		// (including "", "ip" and "tcp5") goes to ResolveTCPAddr.
		if strings.HasPrefix(network, "udp") {
			var a *net.UDPAddr
			if a, err = net.ResolveUDPAddr(network, address); err == nil {
				ip, port, zone = a.IP, a.Port, a.Zone
			}
		} else {
			var a *net.TCPAddr
			if a, err = net.ResolveTCPAddr(network, address); err == nil {
				ip, port, zone = a.IP, a.Port, a.Zone
			}
		}
		if err != nil {
			r.Err = err.Error()
		} else {
			r.OK = true
			if len(ip) > 0 { // an unset IP prints as "" (Go's ipEmptyString), not "<nil>"
				r.IP = ip.String()
			}
			r.Port, r.Zone = port, zone
		}
		if err := enc.Encode(r); err != nil {
			os.Exit(1)
		}
	}
	if in.Err() != nil {
		os.Exit(1)
	}
}
