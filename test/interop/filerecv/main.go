// Command filerecv is the classic Go file receiver ("file transfer between
// two hosts"), used as an interop peer for `netkit send --compat`.
//
// It listens on -addr and prints "listening <addr>". For each connection it
// reads the file name with a single Read, answers "ok", and copies
// everything that follows into -dir/<name> until the sender closes, then
// prints "received <name> <bytes>". Only the name's last element is used,
// so nothing lands outside -dir. With -n N it exits after N files have
// arrived; errors are printed on stderr and do not count.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
)

type result struct {
	name string
	n    int64
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "TCP address to listen on")
	dir := flag.String("dir", ".", "directory the files are written to")
	count := flag.Int("n", 0, "exit after this many files (0 = serve forever)")
	flag.Parse()
	if flag.NArg() != 0 || *count < 0 {
		flag.Usage()
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "filerecv: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", ln.Addr())

	done := make(chan result)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				fmt.Fprintf(os.Stderr, "filerecv: accept: %v\n", err)
				os.Exit(1)
			}
			go func() {
				r, err := receive(conn, *dir)
				if err != nil {
					fmt.Fprintf(os.Stderr, "filerecv: %s: %v\n", conn.RemoteAddr(), err)
					return
				}
				done <- r
			}()
		}
	}()
	// Printing from one goroutine keeps the lines whole.
	for i := 0; *count == 0 || i < *count; i++ {
		r := <-done
		fmt.Printf("received %s %d\n", r.name, r.n)
	}
}

func receive(conn net.Conn, dir string) (result, error) {
	defer conn.Close()
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		return result{}, fmt.Errorf("read name: %w", err)
	}
	name := filepath.Base(string(buf[:n]))
	if name == "." || name == ".." || name == string(filepath.Separator) {
		return result{}, fmt.Errorf("refusing file name %q", buf[:n])
	}
	if _, err := conn.Write([]byte("ok")); err != nil {
		return result{}, fmt.Errorf("write ok: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return result{}, err
	}
	written, err := io.Copy(f, conn)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", name, err)
	}
	return result{name, written}, nil
}
