/**
 * The framing benchmark's inputs and decoders, shared by framing.bench.ts
 * (which knows what to expect) and framing/child.ts (which measures).
 *
 * Inputs are built here, independently of netkit's encoders, so a bug in
 * netkit cannot make its own decoder look right.
 */
import { Readable, type Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import frameStream from 'frame-stream';
import * as lps from 'length-prefixed-stream';
import { createDecoder, decodeStream } from '../../src/framing/index.js';

export const CHUNK_BYTES = 64 * 1024;
/** MAX_FRAME is the frame limit every decoder is configured with (2 MiB). */
export const MAX_FRAME = 2 ** 21;

export type Prefix = 'len32' | 'uvarint';

export type VariantId = 'netkit-decoder' | 'netkit-stream' | 'frame-stream' | 'length-prefixed-stream';

/** VARIANTS maps each variant to the subject name shown in the table. */
export const VARIANTS: Record<VariantId, string> = {
  'netkit-decoder': 'netkit decoder',
  'netkit-stream': 'netkit decodeStream',
  'frame-stream': 'frame-stream',
  'length-prefixed-stream': 'length-prefixed-stream',
};

export interface CaseDef {
  id: string;
  /** label is the case column of the table. */
  label: string;
  prefix: Prefix;
  payloadBytes: number;
  /** approxBytes is the input size aimed for; the frame count is rounded from it. */
  approxBytes: number;
  variants: readonly VariantId[];
}

const MiB = 1024 * 1024;
const LEN32_VARIANTS: readonly VariantId[] = ['netkit-decoder', 'netkit-stream', 'frame-stream'];
const UVARINT_VARIANTS: readonly VariantId[] = ['netkit-decoder', 'netkit-stream', 'length-prefixed-stream'];

export const CASES: readonly CaseDef[] = [
  {
    id: 'len32-small',
    label: 'len32 64 B',
    prefix: 'len32',
    payloadBytes: 64,
    approxBytes: 32 * MiB,
    variants: LEN32_VARIANTS,
  },
  {
    id: 'len32-large',
    label: 'len32 1 MiB',
    prefix: 'len32',
    payloadBytes: MiB,
    approxBytes: 64 * MiB,
    variants: LEN32_VARIANTS,
  },
  {
    id: 'uvarint-small',
    label: 'uvarint 64 B',
    prefix: 'uvarint',
    payloadBytes: 64,
    approxBytes: 32 * MiB,
    variants: UVARINT_VARIANTS,
  },
  {
    id: 'uvarint-large',
    label: 'uvarint 1 MiB',
    prefix: 'uvarint',
    payloadBytes: MiB,
    approxBytes: 64 * MiB,
    variants: UVARINT_VARIANTS,
  },
];

/** uvarintLength is the size of n as an unsigned LEB128 varint. */
function uvarintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function prefixBytes(c: CaseDef): number {
  return c.prefix === 'len32' ? 4 : uvarintLength(c.payloadBytes);
}

/** Shape is what decoding a case's input must produce. */
export interface Shape {
  frames: number;
  /** inputBytes is the total size of the framed input (prefixes included). */
  inputBytes: number;
  /** payloadBytes is the sum of the frame payloads. */
  payloadBytes: number;
}

export function shapeOf(c: CaseDef): Shape {
  const frameBytes = prefixBytes(c) + c.payloadBytes;
  const frames = Math.max(1, Math.round(c.approxBytes / frameBytes));
  return { frames, inputBytes: frames * frameBytes, payloadBytes: frames * c.payloadBytes };
}

/** tag is the byte frame i is filled with, so reordered or misaligned frames are caught. */
function tag(i: number): number {
  return (i * 7 + 1) & 0xff;
}

/**
 * buildInput returns the case's framed input as CHUNK_BYTES chunks (views
 * of one buffer; frames straddle chunk boundaries as they would on a
 * socket). Frame i's payload is filled with tag(i).
 */
export function buildInput(c: CaseDef): Buffer[] {
  const { frames, inputBytes } = shapeOf(c);
  const buf = Buffer.allocUnsafe(inputBytes);
  let off = 0;
  for (let i = 0; i < frames; i++) {
    if (c.prefix === 'len32') {
      buf.writeUInt32BE(c.payloadBytes, off);
      off += 4;
    } else {
      let n = c.payloadBytes;
      while (n >= 0x80) {
        buf[off++] = (n & 0x7f) | 0x80;
        n = Math.floor(n / 128);
      }
      buf[off++] = n;
    }
    buf.fill(tag(i), off, off + c.payloadBytes);
    off += c.payloadBytes;
  }
  if (off !== inputBytes) throw new Error(`built ${off} bytes, expected ${inputBytes}`);
  const chunks: Buffer[] = [];
  for (let at = 0; at < inputBytes; at += CHUNK_BYTES) chunks.push(buf.subarray(at, at + CHUNK_BYTES));
  return chunks;
}

/** Sink counts and checks the frames a decoder emits. */
export class Sink {
  frames = 0;
  payloadBytes = 0;
  firstProblem: string | null = null;
  constructor(private readonly payload: number) {}

  /** onFrame is bound once, so every decoder is handed the same function. */
  readonly onFrame = (frame: Buffer): void => {
    const want = tag(this.frames);
    if (
      this.firstProblem === null &&
      (frame.length !== this.payload || frame[0] !== want || frame[frame.length - 1] !== want)
    ) {
      this.firstProblem = `frame ${this.frames}: ${frame.length} bytes starting ${frame[0]}, want ${this.payload} bytes of ${want}`;
    }
    this.frames++;
    this.payloadBytes += frame.length;
  };

  /** check throws unless exactly the expected frames arrived intact. */
  check(shape: Shape): void {
    if (this.firstProblem !== null) throw new Error(`wrong frame content: ${this.firstProblem}`);
    if (this.frames !== shape.frames || this.payloadBytes !== shape.payloadBytes) {
      throw new Error(
        `decoded ${this.frames} frames / ${this.payloadBytes} payload bytes, expected ${shape.frames} / ${shape.payloadBytes}`,
      );
    }
  }
}

/** source is a byte Readable that hands out the chunks as fast as they are read. */
function source(chunks: readonly Buffer[]): Readable {
  let i = 0;
  return new Readable({
    read() {
      while (i < chunks.length) {
        if (!this.push(chunks[i++])) return;
      }
      this.push(null);
    },
  });
}

async function runStream(chunks: readonly Buffer[], decoder: Transform, sink: Sink): Promise<void> {
  decoder.on('data', sink.onFrame);
  source(chunks).pipe(decoder);
  await finished(decoder);
}

/** decodeOnce decodes the whole input once with `variant`, feeding every frame to the sink. */
export async function decodeOnce(
  c: CaseDef,
  variant: VariantId,
  chunks: readonly Buffer[],
  sink: Sink,
): Promise<void> {
  switch (variant) {
    case 'netkit-decoder': {
      const d = createDecoder(c.prefix, { maxFrameBytes: MAX_FRAME });
      for (let i = 0; i < chunks.length; i++) d.push(chunks[i]!, sink.onFrame);
      d.end(sink.onFrame);
      return;
    }
    case 'netkit-stream':
      return runStream(chunks, decodeStream(createDecoder(c.prefix, { maxFrameBytes: MAX_FRAME })), sink);
    case 'frame-stream':
      if (c.prefix !== 'len32') throw new Error('frame-stream only decodes fixed-width prefixes');
      // lengthSize 4 reads the prefix with readUInt32BE; maxSize matches the others' limit.
      return runStream(chunks, frameStream.decode({ lengthSize: 4, maxSize: MAX_FRAME }), sink);
    case 'length-prefixed-stream':
      if (c.prefix !== 'uvarint') throw new Error('length-prefixed-stream only decodes varint prefixes');
      return runStream(chunks, lps.decode({ limit: MAX_FRAME }), sink);
  }
}
