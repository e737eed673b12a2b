/** The services the Go interop programs (test/interop/rpcserver, rpcclient) expect, served by netkit. */
import { setTimeout as sleep } from 'node:timers/promises';
import { arith } from '../../src/rpc/arith.js';
import { gob } from '../../src/rpc/gob/index.js';
import { Registry } from '../../src/rpc/registry.js';

const Point = gob.struct({ X: gob.int, Y: gob.int }, 'Point');

/** Shape mirrors the Go struct of the same name, field for field. */
export const Shape = gob.struct(
  {
    Name: gob.string,
    Points: gob.slice(Point),
    Tags: gob.map(gob.string, gob.int),
    Center: Point,
    Scale: gob.float,
    Big: gob.uint,
    Neg: gob.int,
    Ok: gob.bool,
    Raw: gob.bytes,
    Inner: Point,
  },
  'Shape',
);

/** testRegistry serves Arith (with Sleep) and Shapes as the Go peers do. */
export function testRegistry(): Registry {
  return new Registry()
    .register('Arith', {
      ...arith,
      async Sleep(ms) {
        await sleep(Number(ms));
        return ms;
      },
    })
    .register(
      'Shapes',
      {
        Echo: (shape) => shape,
        Sum: (xs) => (xs as number[]).reduce((a, b) => a + b, 0),
        // gob maps decode to Map, JSON objects to plain objects.
        Keys: (m) => (m instanceof Map ? [...m.keys()] : Object.keys(m as object)).sort(),
      },
      { Echo: { reply: Shape } },
    );
}

/** GO_TRANSCRIPT is what test/interop/rpcclient prints against Go's own server (any codec). */
export const GO_TRANSCRIPT = `multiply 56
divide {Quo:3 Rem:2}
divide-by-zero error: divide by zero
unknown-service error: rpc: can't find service Nope.Multiply
unknown-method error: rpc: can't find method Arith.Nope
ill-formed error: rpc: service/method request ill-formed: NoDot
multiply-again -12
echo tri [{1 2} {3 4} {0 -5}] map[a:1] {7 8} 1.5 true 9223372036854775813 -1099511627776 [0 1 255] {9 0} true
sum 406
keys [a b c]
concurrent 200 bad 0
done
`;
