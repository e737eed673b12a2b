/**
 * proxy: PROXY protocol header parse and build rates, in process.
 *
 * Cases (each a fixed header, parsed or built over and over):
 *   parse v1    "PROXY TCP4 192.0.2.10 198.51.100.20 51234 443\r\n"
 *   parse v2    v2 PROXY TCP over IPv4 with an ALPN ("h2") and an AUTHORITY TLV,
 *               reading the source endpoint
 *   parse v2, every field read
 *               the same header, reading source, destination, ALPN and
 *               AUTHORITY (netkit decodes on first access; proxy-protocol-js
 *               has no TLV decoding, so its side reads its addresses, ports and
 *               the undecoded TLV tail)
 *   build v1    the v1 line above from its endpoints
 *   build v2    the v2 TCP4 header without TLVs (proxy-protocol-js cannot
 *               count TLVs in the length field it writes)
 * Subjects:
 *   netkit             parseProxyHeader(buf) / buildProxyHeaderV1, buildProxyHeaderV2
 *   proxy-protocol-js  V1ProxyProtocol.parse(buf.toString('latin1')), V2ProxyProtocol.parse(buf) /
 *                      new V1ProxyProtocol(...).build(), new V2ProxyProtocol(...).build()
 * Each subject's output is checked once before timing. Timing: one warm-up
 * batch, then rounds of ROUND_MS with the subjects interleaved (order
 * alternating), for min(--duration, 2 s) per subject and case; the median
 * round's rate is reported.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import * as ppjs from 'proxy-protocol-js';
import { buildProxyHeaderV1, buildProxyHeaderV2, PP2_TYPE, parseProxyHeader } from '../src/proxy/index.js';
import type { BenchContext, Benchmark, Row } from './lib/types.js';

const NK = 'netkit';
const PPJS = 'proxy-protocol-js';
const ROUND_MS = 100;
const MAX_SEC = 2;

const SRC = { address: '192.0.2.10', port: 51234 };
const DST = { address: '198.51.100.20', port: 443 };
const V1 = buildProxyHeaderV1({ family: 'inet', source: SRC, destination: DST });
const V2_TLVS = [
  { type: PP2_TYPE.ALPN, value: Buffer.from('h2') },
  { type: PP2_TYPE.AUTHORITY, value: Buffer.from('backend.example.com') },
];
const V2 = buildProxyHeaderV2({ source: SRC, destination: DST, tlvs: V2_TLVS });

/** Subject runs one operation and returns a number derived from its output, so nothing is optimised away. */
type Op = () => number;

interface CaseDef {
  label: string;
  ops: Record<string, Op>;
  /** check asserts that every subject's output is right before anything is timed. */
  check(): void;
}

const ppV4 = (a: string): ppjs.IPv4Address => ppjs.IPv4Address.createFrom(a.split('.').map(Number));

const CASES: CaseDef[] = [
  {
    label: 'parse v1 TCP4',
    ops: {
      [NK]: () => parseProxyHeader(V1)!.header.source!.port,
      [PPJS]: () => ppjs.V1ProxyProtocol.parse(V1.toString('latin1')).source.port,
    },
    check() {
      const a = parseProxyHeader(V1)!.header;
      const b = ppjs.V1ProxyProtocol.parse(V1.toString('latin1'));
      assert.deepEqual([a.source, a.destination], [SRC, DST]);
      assert.deepEqual(
        [b.source.ipAddress, b.source.port, b.destination.ipAddress, b.destination.port],
        [SRC.address, SRC.port, DST.address, DST.port],
      );
    },
  },
  {
    label: 'parse v2 TCP4 + 2 TLVs',
    ops: {
      [NK]: () => parseProxyHeader(V2)!.header.source!.port,
      [PPJS]: () => (ppjs.V2ProxyProtocol.parse(V2).proxyAddress as ppjs.IPv4ProxyAddress).sourcePort,
    },
    check() {
      const a = parseProxyHeader(V2)!.header;
      assert.deepEqual([a.source, a.destination, a.alpn], [SRC, DST, 'h2']);
      const b = ppjs.V2ProxyProtocol.parse(V2);
      const addr = b.proxyAddress as ppjs.IPv4ProxyAddress;
      assert.deepEqual([addr.sourcePort, addr.destinationPort], [SRC.port, DST.port]);
      assert.deepEqual([...addr.sourceAddress.address], SRC.address.split('.').map(Number));
      assert.equal(b.data?.length, V2.length - 28); // the TLV bytes, left undecoded
    },
  },
  {
    label: 'parse v2, every field read',
    ops: {
      [NK]: () => {
        const h = parseProxyHeader(V2)!.header;
        return (
          h.source!.address.length +
          h.source!.port +
          h.destination!.address.length +
          h.destination!.port +
          h.alpn!.length +
          h.authority!.length
        );
      },
      [PPJS]: () => {
        const p = ppjs.V2ProxyProtocol.parse(V2);
        const a = p.proxyAddress as ppjs.IPv4ProxyAddress;
        return (
          a.sourceAddress.address[0]! +
          a.sourcePort +
          a.destinationAddress.address[0]! +
          a.destinationPort +
          (p.data?.length ?? 0)
        );
      },
    },
    check() {
      const a = parseProxyHeader(V2)!.header;
      assert.deepEqual(
        [a.source, a.destination, a.alpn, a.authority],
        [SRC, DST, 'h2', 'backend.example.com'],
      );
    },
  },
  {
    label: 'build v1 TCP4',
    ops: {
      [NK]: () => buildProxyHeaderV1({ family: 'inet', source: SRC, destination: DST }).length,
      [PPJS]: () =>
        new ppjs.V1ProxyProtocol(
          ppjs.INETProtocol.TCP4,
          new ppjs.Peer(SRC.address, SRC.port),
          new ppjs.Peer(DST.address, DST.port),
        ).build().length,
    },
    check() {
      const b = new ppjs.V1ProxyProtocol(
        ppjs.INETProtocol.TCP4,
        new ppjs.Peer(SRC.address, SRC.port),
        new ppjs.Peer(DST.address, DST.port),
      ).build();
      assert.equal(b, V1.toString('latin1'));
    },
  },
  {
    label: 'build v2 TCP4',
    ops: {
      [NK]: () => buildProxyHeaderV2({ source: SRC, destination: DST }).length,
      [PPJS]: () =>
        new ppjs.V2ProxyProtocol(
          ppjs.Command.PROXY,
          ppjs.TransportProtocol.STREAM,
          new ppjs.IPv4ProxyAddress(ppV4(SRC.address), SRC.port, ppV4(DST.address), DST.port),
        ).build().length,
    },
    check() {
      const b = new ppjs.V2ProxyProtocol(
        ppjs.Command.PROXY,
        ppjs.TransportProtocol.STREAM,
        new ppjs.IPv4ProxyAddress(ppV4(SRC.address), SRC.port, ppV4(DST.address), DST.port),
      ).build();
      assert.deepEqual(Buffer.from(b), buildProxyHeaderV2({ source: SRC, destination: DST }));
    },
  },
];

let sink = 0;

/**
 * batch runs `op` until ROUND_MS has passed (checking the clock every 1,000
 * calls) and returns ops/s and the process CPU spent per op in ns. The CPU
 * figure is the one to trust on a shared machine: a batch that loses its core
 * to another process shows a lower rate but the same CPU per op.
 */
function batch(op: Op): { rate: number; cpuNs: number } {
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ROUND_MS) {
    for (let i = 0; i < 1000; i++) sink += op();
    n += 1000;
    t = performance.now();
  }
  const c = process.cpuUsage(c0);
  return { rate: n / ((t - t0) / 1000), cpuNs: ((c.user + c.system) * 1000) / n };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function measureCase(ctx: BenchContext, c: CaseDef): Row[] {
  const subjects = Object.keys(c.ops);
  try {
    c.check();
  } catch (err) {
    return subjects.map((s) => ({
      subject: s,
      case: c.label,
      metrics: {},
      error: `output check failed: ${(err as Error).message}`,
    }));
  }
  const rates: Record<string, number[]> = Object.fromEntries(subjects.map((s) => [s, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(subjects.map((s) => [s, []]));
  for (const s of subjects) batch(c.ops[s]!); // warm-up: let the JIT settle
  const rounds = Math.max(5, Math.round((Math.min(ctx.durationSec, MAX_SEC) * 1000) / ROUND_MS));
  for (let r = 0; r < rounds && !ctx.signal.aborted; r++) {
    const order = r % 2 === 0 ? subjects : [...subjects].reverse();
    for (const s of order) {
      const b = batch(c.ops[s]!);
      rates[s]!.push(b.rate);
      cpu[s]!.push(b.cpuNs);
    }
  }
  ctx.log(`${c.label}: ${rounds} rounds`);
  return subjects.map((s) => ({
    subject: s,
    case: c.label,
    metrics: { ops_s: median(rates[s]!), ns_op: 1e9 / median(rates[s]!), cpu_ns_op: median(cpu[s]!) },
    params: {
      header_bytes: c.label.includes('v1') ? V1.length : c.label.startsWith('parse') ? V2.length : 28,
    },
    detail: { rounds_ops_s: rates[s] },
  }));
}

const proxy: Benchmark = {
  name: 'proxy',
  description: 'PROXY protocol v1/v2 header parse and build rate: netkit vs proxy-protocol-js',
  table: (ctx) => ({
    title: `proxy: headers per second, in process (median of ${ROUND_MS} ms rounds over ${Math.min(ctx.durationSec, MAX_SEC)} s per subject)`,
    subjectHeader: 'library',
    caseHeader: 'operation',
    metrics: [
      { key: 'ops_s', header: 'headers/s' },
      { key: 'ns_op', header: 'ns/header' },
      { key: 'cpu_ns_op', header: 'CPU ns/header' },
    ],
    ratios: [
      { header: `vs ${PPJS}`, metric: 'ops_s', baseline: PPJS },
      { header: `CPU vs ${PPJS}`, metric: 'cpu_ns_op', baseline: PPJS },
    ],
    targets: [],
    notes: [
      `v1: ${V1.length} bytes; v2: ${V2.length} bytes (12-byte address block, ALPN and AUTHORITY TLVs).`,
      'proxy-protocol-js v1 parses a string, so its rate includes the Buffer → latin1 string a server must do first.',
      'proxy-protocol-js v2 returns the addresses as byte arrays and the TLVs as one undecoded tail, and reads to the',
      'end of its input rather than to the length field. netkit checks every length, walks the TLVs and checks the',
      'CRC32C at parse time and copies the header out of the input; it formats an address and decodes TLVs when',
      'they are first read ("parse v2" reads the source; "every field read" also the destination, ALPN, AUTHORITY).',
      'CPU ns/header is process CPU per header; "CPU vs" below 1.00× means netkit spends less CPU than the anchor.',
    ],
  }),
  async run(ctx) {
    const rows: Row[] = [];
    for (const c of CASES) {
      if (ctx.signal.aborted) throw new Error('interrupted');
      rows.push(...measureCase(ctx, c));
      await new Promise((r) => setImmediate(r)); // let a SIGINT through between cases
    }
    if (sink === 0) ctx.log('(unreachable: keeps results alive)');
    return rows;
  },
};

export default proxy;
