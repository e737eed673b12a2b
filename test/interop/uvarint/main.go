// Command gouvarint is the reference for netkit's uvarint framing: it runs
// Go's encoding/binary on inputs read from stdin, one request per line.
//
//	enc N    -> hex of binary.PutUvarint(N)
//	dec HEX  -> "ok N" (binary.ReadUvarint succeeded), "overflow", or
//	            "eof" (the input ended inside the varint: io.ErrUnexpectedEOF
//	            from newer Go, plain io.EOF from older releases)
//
// One answer line is written per request line.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		op, arg, _ := strings.Cut(in.Text(), " ")
		switch op {
		case "enc":
			n, err := strconv.ParseUint(arg, 10, 64)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			buf := make([]byte, binary.MaxVarintLen64)
			fmt.Fprintln(out, hex.EncodeToString(buf[:binary.PutUvarint(buf, n)]))
		case "dec":
			b, err := hex.DecodeString(arg)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			v, err := binary.ReadUvarint(bytes.NewReader(b))
			switch {
			case err == nil:
				fmt.Fprintf(out, "ok %d\n", v)
			case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
				fmt.Fprintln(out, "eof")
			default:
				fmt.Fprintln(out, "overflow")
			}
		default:
			fmt.Fprintf(os.Stderr, "unknown request %q\n", in.Text())
			os.Exit(2)
		}
	}
}
