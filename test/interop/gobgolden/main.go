// Command gobgolden is the reference for netkit's gob codec: Go's own
// encoding/gob on a table of named cases.
//
//	gobgolden          -> one "name hex" line per case: the bytes a fresh
//	                      gob.Encoder writes for the case's values
//	gobgolden enc NAME -> the hex for one case
//	gobgolden dec NAME -> reads a hex stream on stdin, decodes it with a
//	                      fresh gob.Decoder into the case's Go types and
//	                      prints one line per value (or "error: ...")
//
// gob type ids are process-wide in Go, so each case is encoded in a fresh
// process (the no-argument mode runs itself once per case): that is what
// one stream of a fresh program writes, and what netkit reproduces.
package main

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"math"
	"net/rpc"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"time"
)

type Inner struct {
	X int
	S string
}

type All struct {
	Bool    bool
	Int     int
	Neg     int64
	Uint    uint64
	Float   float64
	Complex complex128
	String  string
	Bytes   []byte
	Strings []string
	Array   [3]int
	Map     map[string]int
	Iface   interface{}
	Inner   Inner
}

type Outer struct {
	Name string
	In   Inner
	P    *Inner
	Q    *Inner
}

type Node struct {
	Val  int
	Next *Node
}

type Point struct{ X, Y int }

type Holder struct{ I interface{} }

type Wrap struct{ V interface{} }

type Poly struct{ Pts []Point }

type Event struct {
	At   time.Time
	Name string
}

type Args struct{ A, B int }

type Case struct {
	name   string
	values func() []interface{}
}

func one(v interface{}) func() []interface{} { return func() []interface{} { return []interface{}{v} } }

var cases = []Case{
	{"bool_true", one(true)},
	{"bool_false", one(false)},
	{"int_0", one(0)},
	{"int_1", one(1)},
	{"int_neg1", one(-1)},
	{"int_300", one(300)},
	{"int_neg129", one(-129)},
	{"int_2p53p1", one(1<<53 + 1)},
	{"int_max", one(math.MaxInt64)},
	{"int_min", one(math.MinInt64)},
	{"uint_0", one(uint(0))},
	{"uint_127", one(uint(127))},
	{"uint_128", one(uint(128))},
	{"uint_256", one(uint(256))},
	{"uint_big", one(uint64(1<<63 + 5))},
	{"uint_max", one(uint64(math.MaxUint64))},
	{"float_0", one(0.0)},
	{"float_17", one(17.0)},
	{"float_neg_half", one(-0.5)},
	{"float_1e300", one(1e300)},
	{"float_inf", one(math.Inf(1))},
	{"float_neg_zero", one(math.Copysign(0, -1))},
	{"complex", one(complex(1.5, -2))},
	{"string_empty", one("")},
	{"string_hello", one("hello")},
	{"string_utf8", one("héllo, 世界 🌍")},
	{"bytes", one([]byte{1, 2, 3, 255})},
	{"bytes_empty", one([]byte{})},
	{"strings", one([]string{"a", "bc"})},
	{"ints", one([]int{1, -1, 300})},
	{"ints_empty", one([]int{})},
	{"array", one([3]int{1, 2, 3})},
	{"map_string_int", one(map[string]int{"answer": 42})},
	{"map_int_string", one(map[int]string{7: "seven"})},
	{"map_struct", one(map[string]Point{"p": {1, 2}})},
	{"struct_all", one(All{
		Bool: true, Int: -7, Neg: -1 << 40, Uint: 1<<63 + 5, Float: 2.5, Complex: complex(1, -1),
		String: "s", Bytes: []byte("xyz"), Strings: []string{"a"}, Array: [3]int{1, 0, 3},
		Map: map[string]int{"k": 1}, Iface: Point{1, 2}, Inner: Inner{X: 1},
	})},
	{"struct_zero", one(All{})},
	{"struct_empty_map", one(All{Map: map[string]int{}, Strings: []string{}})},
	{"nested", one(Outer{Name: "o", In: Inner{1, "in"}, P: &Inner{2, "p"}})},
	{"list", one(Node{1, &Node{2, &Node{3, nil}}})},
	{"iface", one(Holder{I: Point{3, 4}})},
	{"iface_int", one(Holder{I: 42})},
	{"iface_nil", one(Holder{})},
	{"iface_nested", one(Holder{I: Wrap{V: Point{5, 6}}})},
	{"slice_iface", one([]interface{}{1, "a", nil, Point{1, 2}})},
	{"points", one([]Point{{1, 2}, {3, 4}})},
	{"poly", one(Poly{Pts: []Point{{1, 2}}})},
	{"twice", func() []interface{} { return []interface{}{Point{1, 2}, Point{3, 4}} }},
	{"args", one(Args{7, 8})},
	{"rpc_request", func() []interface{} {
		return []interface{}{rpc.Request{ServiceMethod: "Arith.Multiply", Seq: 0}, Args{7, 8}}
	}},
	{"rpc_response", func() []interface{} {
		return []interface{}{rpc.Response{ServiceMethod: "Arith.Multiply", Seq: 0}, 56}
	}},
	{"rpc_error", func() []interface{} {
		return []interface{}{rpc.Response{ServiceMethod: "Arith.Divide", Seq: 1, Error: "divide by zero"}, struct{}{}}
	}},
	{"time", one(Event{At: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), Name: "e"})},
}

func init() {
	gob.Register(Point{})
	gob.Register(Wrap{})
}

func find(name string) Case {
	for _, c := range cases {
		if c.name == name {
			return c
		}
	}
	fmt.Fprintf(os.Stderr, "unknown case %q\n", name)
	os.Exit(2)
	return Case{}
}

func encode(c Case) string {
	var b bytes.Buffer
	enc := gob.NewEncoder(&b)
	for _, v := range c.values() {
		if err := enc.Encode(v); err != nil {
			fmt.Fprintln(os.Stderr, c.name, err)
			os.Exit(1)
		}
	}
	return hex.EncodeToString(b.Bytes())
}

func decode(c Case, data []byte) []string {
	dec := gob.NewDecoder(bytes.NewReader(data))
	var out []string
	for _, v := range c.values() {
		p := reflect.New(reflect.TypeOf(v))
		if err := dec.DecodeValue(p); err != nil {
			return append(out, "error: "+err.Error())
		}
		out = append(out, dump(p.Elem()))
	}
	return out
}

// dump prints a value like %#v, but follows pointers (so no addresses),
// sorts map keys and prints floats exactly, so output is deterministic.
func dump(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		return "&" + dump(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return "nil"
		}
		return "(" + v.Elem().Type().String() + ")" + dump(v.Elem())
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			return t.UTC().Format(time.RFC3339Nano)
		}
		var parts []string
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				parts = append(parts, f.Name+":"+dump(v.Field(i)))
			}
		}
		return v.Type().String() + "{" + strings.Join(parts, ", ") + "}"
	case reflect.Slice:
		if v.IsNil() {
			return v.Type().String() + "(nil)"
		}
		fallthrough
	case reflect.Array:
		var parts []string
		for i := 0; i < v.Len(); i++ {
			parts = append(parts, dump(v.Index(i)))
		}
		return v.Type().String() + "{" + strings.Join(parts, ", ") + "}"
	case reflect.Map:
		if v.IsNil() {
			return v.Type().String() + "(nil)"
		}
		var parts []string
		for _, k := range v.MapKeys() {
			parts = append(parts, dump(k)+":"+dump(v.MapIndex(k)))
		}
		sort.Strings(parts)
		return v.Type().String() + "{" + strings.Join(parts, ", ") + "}"
	case reflect.Float32, reflect.Float64:
		return fmt.Sprintf("%v(%016x)", v.Float(), math.Float64bits(v.Float()))
	default:
		return fmt.Sprintf("%#v", v.Interface())
	}
}

func main() {
	if len(os.Args) == 1 {
		out := bufio.NewWriter(os.Stdout)
		defer out.Flush()
		for _, c := range cases {
			b, err := exec.Command(os.Args[0], "enc", c.name).Output()
			if err != nil {
				fmt.Fprintln(os.Stderr, c.name, err)
				os.Exit(1)
			}
			fmt.Fprintf(out, "%s %s", c.name, b)
		}
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gobgolden [enc NAME | dec NAME]")
		os.Exit(2)
	}
	c := find(os.Args[2])
	switch os.Args[1] {
	case "enc":
		fmt.Println(encode(c))
	case "dec":
		in, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		data, err := hex.DecodeString(strings.TrimSpace(in))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for _, line := range decode(c, data) {
			fmt.Println(line)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}
