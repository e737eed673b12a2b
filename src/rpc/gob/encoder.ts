/**
 * A gob encoder compatible byte for byte with Go 1.19's encoding/gob.
 *
 * Written by hand: no usable npm package implements gob (the few that
 * exist decode only, lack type definitions or streams, or are abandoned),
 * and net/rpc interop needs exact control of type ids and message layout.
 *
 * One Encoder is one stream direction, kept for the stream's life like Go's:
 * a type's definition is sent once, the first time the type is used, and
 * later values carry only its id. The value encoders follow Go's encode.go
 * rule for rule (which zero fields are omitted, the singleton prefix, how
 * interface values cut a message when they define a type), because a Go
 * peer accepts anything valid but tests compare bytes.
 */
import { InvalidArgumentError } from '../../errors.js';
import { EncodeFailure, encodeError, GobError } from './errors.js';
import { inferTypeOf } from './infer.js';
import { isScalarKind, K_ARRAY, K_MAP, K_SLICE, K_STRUCT, type Node } from './node.js';
import { type EncoderOptions, encoderOptions } from './options.js';
import { type RegistryMark, TypeRegistry } from './registry.js';
import { isGobType } from './schema.js';
import type { GobType } from './types.js';
import { encodeValue, encStruct, type ValueSink } from './values-out.js';
import { WIRE_TYPE, wireValue } from './wire.js';
import { ByteWriter } from './writer.js';

/** Buffers larger than this are dropped after use instead of being kept for the next value. */
const KEEP_BUFFER_BYTES = 1 << 20;

/** checkType rejects a `type` argument that is not a gob type. */
function checkType(type: GobType | undefined): void {
  if (type !== undefined && !isGobType(type)) {
    throw new InvalidArgumentError('type', 'must be a gob type (gob.int, gob.struct(...), ...) or undefined');
  }
}

/** EncoderMark is a point in an Encoder's history to roll back to; see Encoder.mark. */
export type EncoderMark = RegistryMark;

/**
 * Encoder turns values into gob messages for one stream. encode is
 * synchronous and returns the bytes to write, type definitions first. Not
 * safe for interleaved use by two streams.
 */
export class Encoder implements ValueSink {
  /** maxDepth bounds value and type nesting (a circular object fails instead of overflowing the stack). */
  readonly maxDepth: number;
  /** maxMessageBytes is the largest message encode will produce. */
  readonly maxMessageBytes: number;
  private readonly registry: TypeRegistry;
  private readonly out = new ByteWriter(1024);
  private readonly msg = new ByteWriter(256);
  /** scratch[i] holds the value of an interface nested i deep while it is encoded. */
  private readonly scratch: ByteWriter[] = [];
  /** writers is Go's writer stack: null is the output, a ByteWriter is an enclosing interface's buffer. */
  private readonly writers: (ByteWriter | null)[] = [null];

  constructor(options?: EncoderOptions) {
    const o = encoderOptions(options);
    this.maxDepth = o.maxDepth;
    this.maxMessageBytes = o.maxMessageBytes;
    this.registry = new TypeRegistry(this.maxDepth);
  }

  /**
   * encode returns the gob messages for `value`: the definitions of types
   * new to this stream, then the value. Without `type`, the type is
   * inferred (see infer.ts). A value that does not fit its type throws a
   * GobError NETKIT_GOB_ENCODE naming the path, and leaves the stream as
   * it was.
   */
  encode(value: unknown, type?: GobType): Buffer {
    checkType(type);
    const mark = this.registry.mark();
    try {
      const msg = this.stage(value, type);
      if (this.out.pos === 0) {
        // Only the value (the usual case once types are sent): one copy, straight from msg.
        this.checkSize(msg.pos);
        return msg.takeMessage();
      }
      this.flush(null, msg);
      return this.out.take();
    } catch (err) {
      this.undo(mark);
      throw err;
    } finally {
      this.release();
    }
  }

  /**
   * encodePair returns the messages of two values, one after the other, in
   * one Buffer: net/rpc's header and body, which Go writes with one flush.
   * The bytes are those of encode(first) followed by encode(second); if
   * either value does not fit its type, the stream is left as it was
   * before both.
   *
   * @internal
   */
  encodePair(first: unknown, firstType: GobType | undefined, second: unknown, secondType?: GobType): Buffer {
    checkType(firstType);
    checkType(secondType);
    const mark = this.registry.mark();
    try {
      this.flush(null, this.stage(first, firstType));
      this.flush(null, this.stage(second, secondType));
      return this.out.take();
    } catch (err) {
      this.undo(mark);
      throw err;
    } finally {
      this.release();
    }
  }

  /**
   * stage sends the definitions of types new to the stream to the output
   * and leaves the value's message, without its length, in `msg`.
   */
  private stage(value: unknown, type: GobType | undefined): ByteWriter {
    let root = 'value';
    try {
      if (value === null || value === undefined)
        throw new EncodeFailure('nil values cannot be sent (Go: cannot encode nil value)');
      const node =
        type === undefined
          ? this.registry.nodeFor(inferTypeOf(value, this.maxDepth), false)
          : this.registry.nodeFor(type);
      if (node.k === K_STRUCT && node.name !== '') root = node.name;
      const msg = this.msg;
      this.sendType(node, msg);
      msg.int(node.id);
      if (node.k === K_STRUCT) encStruct(this, msg, node, value, 1);
      else {
        // A top-level non-struct is a singleton: field delta 0, then the value, zero or not.
        msg.byte(0);
        encodeValue(this, msg, node, value, 1, false);
      }
      return msg;
    } catch (err) {
      if (err instanceof EncodeFailure) throw encodeError(err, root);
      throw err;
    }
  }

  /** undo forgets what a failed encode defined and drops its partial bytes. */
  private undo(mark: RegistryMark): void {
    this.registry.rollback(mark);
    this.msg.pos = 0;
    this.writers.length = 1;
  }

  /** release empties the buffers after an encode, dropping any grown past KEEP_BUFFER_BYTES. */
  private release(): void {
    this.out.shrink(KEEP_BUFFER_BYTES);
    this.msg.shrink(KEEP_BUFFER_BYTES);
    for (const w of this.scratch) w?.shrink(KEEP_BUFFER_BYTES); // sparse: indexed by depth
  }

  /** mark returns the stream's current state, to undo later encodes whose bytes were never sent. */
  mark(): EncoderMark {
    return this.registry.mark();
  }

  /**
   * rollback forgets the types defined since `mark`. Call it only if none
   * of the bytes encoded since were written: the peer must not have seen
   * those definitions either.
   */
  rollback(mark: EncoderMark): void {
    this.registry.rollback(mark);
  }

  /**
   * nodeOf compiles a type met inside a value (an interface's concrete type).
   *
   * @internal
   */
  nodeOf(type: GobType): Node {
    if (!isGobType(type)) throw new EncodeFailure('GobInterface.type is not a gob type');
    return this.registry.nodeFor(type);
  }

  /**
   * scratchAt returns the reusable buffer for interface values nested `depth` deep.
   *
   * @internal
   */
  scratchAt(depth: number): ByteWriter {
    let w = this.scratch[depth];
    if (w === undefined) {
      w = new ByteWriter(256);
      this.scratch[depth] = w;
    }
    w.pos = 0;
    return w;
  }

  /**
   * pushWriter sends what is encoded next into `w`, until popWriter (an interface value's bytes are length-prefixed).
   *
   * @internal
   */
  pushWriter(w: ByteWriter): void {
    this.writers.push(w);
  }

  /**
   * popWriter returns to the writer before the last pushWriter.
   *
   * @internal
   */
  popWriter(): void {
    this.writers.pop();
  }

  /**
   * sendType is Go's sendTypeDescriptor: define `node` and, depth first,
   * the types it uses, unless already sent. Each definition is staged in
   * `stage` and flushed to the innermost writer as one message, so when
   * `stage` already holds part of a value (an interface met mid-value), that
   * partial value goes out with the first definition, as Go does.
   *
   * @internal
   */
  sendType(node: Node, stage: ByteWriter): void {
    if (node.sent || isScalarKind(node.k)) return;
    this.registry.markSent(node);
    stage.int(-node.id);
    encStruct(this, stage, WIRE_TYPE, wireValue(node), 1);
    this.flush(this.writers[this.writers.length - 1]!, stage);
    switch (node.k) {
      case K_STRUCT:
        for (const f of node.fields) this.sendType(f, stage);
        break;
      case K_SLICE:
      case K_ARRAY:
        this.sendType(node.elem!, stage);
        break;
      case K_MAP:
        this.sendType(node.key!, stage);
        this.sendType(node.elem!, stage);
        break;
    }
  }

  private checkSize(len: number): void {
    if (len > this.maxMessageBytes) {
      throw new GobError(
        'NETKIT_GOB_LIMIT',
        `gob: message of ${len} bytes exceeds maxMessageBytes (${this.maxMessageBytes}); raise maxMessageBytes or send less`,
        { limit: this.maxMessageBytes },
      );
    }
  }

  /**
   * flush is Go's writeMessage: append `b` to `target` (null: the output) with its length, and empty `b`.
   *
   * @internal
   */
  flush(target: ByteWriter | null, b: ByteWriter): void {
    const len = b.pos;
    if (target === null) {
      this.checkSize(len);
      target = this.out;
    }
    target.uint(len);
    target.raw(b.buf, 0, len);
    b.pos = 0;
  }
}
