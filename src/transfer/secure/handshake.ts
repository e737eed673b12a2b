import { TransferError } from '../../errors.js';
import {
  encodeFrame,
  expectFrame,
  type Frame,
  magicOf,
  PROTOCOL_VERSION,
  protocolError,
  remoteError,
} from '../protocol.js';
import type { Wire } from '../wire.js';
import { normalizeCode } from './codes.js';
import { sessionKeys } from './sealed.js';
import { passwordScalar, Spake2 } from './spake2.js';

/**
 * The start of an encrypted session (protocol 2), in cleartext frames:
 *
 *     sender   → MAGIC(2), {hello, version 2, pake: pA}
 *     receiver → {hello, version 2, pake: pB, confirm: MAC(KcB, TT)}
 *     sender   → {confirm, mac: MAC(KcA, TT)}
 *     receiver → {ready}
 *
 * then records both ways. SPAKE2 (RFC 9382, P-256) binds the key to the
 * code: each side learns only whether the other used the same code, one
 * guess per connection, and a recording of the exchange cannot be used to
 * test guesses offline. The roles are SPAKE2's identities, so a share or a
 * confirmation reflected back to its sender does not verify. Both sides
 * check the other's confirmation before anything else crosses: a wrong code
 * ends the session after one exchange.
 */

const ID_SENDER = Buffer.from('netkit sender');
const ID_RECEIVER = Buffer.from('netkit receiver');
const AAD = Buffer.from('netkit-transfer/2');

/** CodeSecret is a code as the PAKE takes it: normalised, its scalar derived once. */
export class CodeSecret {
  readonly code: string;
  readonly #w: bigint;
  constructor(code: string) {
    this.code = normalizeCode(code);
    this.#w = passwordScalar(this.code);
  }
  /** exchange starts one SPAKE2 exchange (fresh randomness each time). */
  exchange(role: 'sender' | 'receiver'): Spake2 {
    return new Spake2(role === 'sender' ? 'A' : 'B', this.#w, { idA: ID_SENDER, idB: ID_RECEIVER, aad: AAD });
  }
}

const WRONG = 'the two sides have different codes (or the handshake was changed on the path)';

/** sealAsSender runs the sender's side and leaves `wire` sealed. */
export async function sealAsSender(wire: Wire, secret: CodeSecret): Promise<void> {
  const spake = secret.exchange('sender');
  await wire.write(
    Buffer.concat([
      magicOf(PROTOCOL_VERSION),
      encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, pake: spake.share.toString('hex') }),
    ]),
  );
  const hello = expectFrame(await wire.mustFrame(), 'hello');
  if (hello.version !== PROTOCOL_VERSION) {
    throw new TransferError(
      'NETKIT_TRANSFER_PROTOCOL',
      hello.version === 1
        ? 'the receiver runs the cleartext protocol (--plain): send with --plain, or restart it without'
        : `the receiver speaks protocol version ${hello.version}, not ${PROTOCOL_VERSION}`,
    );
  }
  if (hello.pake === undefined || hello.confirm === undefined)
    throw protocolError("the receiver's hello has no key exchange");
  const keys = spake.finish(Buffer.from(hello.pake, 'hex'));
  if (!keys.verify(Buffer.from(hello.confirm, 'hex'))) {
    // Said in the clear: the receiver cannot read records from a sender with another key.
    wire.send(encodeFrame({ type: 'error', code: 'NETKIT_TRANSFER_AUTH', message: `wrong code: ${WRONG}` }));
    throw new TransferError('NETKIT_TRANSFER_AUTH', `wrong code: ${WRONG}; nothing was sent`);
  }
  await wire.write(encodeFrame({ type: 'confirm', mac: keys.confirm.toString('hex') }));
  // The receiver may still refuse here: busy, or our confirmation did not verify.
  expectFrame(await wire.mustFrame(), 'ready');
  wire.seal(sessionKeys(keys.ke, 'sender'));
}

/** ReceiverGate is what a receiver does around the guess: wait its turn, then learn how it went. */
export interface ReceiverGate {
  /** turn resolves when this handshake may answer (later after wrong codes); `signal` fires when its connection closes. */
  turn(signal?: AbortSignal): Promise<void>;
  /** wrong records a wrong code. */
  wrong(): void;
  /** right records a code that verified. */
  right(): void;
}

/**
 * sealAsReceiver answers a sender's version-2 hello and leaves `wire`
 * sealed. `admit` runs once the sender proved the code (it throws to
 * refuse: busy).
 */
export async function sealAsReceiver(
  wire: Wire,
  hello: Extract<Frame, { type: 'hello' }>,
  secret: CodeSecret,
  admit: (() => void) | undefined,
  gate: ReceiverGate | undefined,
): Promise<void> {
  if (hello.pake === undefined) throw protocolError("the sender's hello has no key exchange");
  const spake = secret.exchange('receiver');
  const keys = spake.finish(Buffer.from(hello.pake, 'hex'));
  if (gate !== undefined) {
    // A handshake whose connection closes while it waits gives its turn back.
    const gone = new AbortController();
    void wire.conn.closed.then(() => gone.abort());
    await gate.turn(gone.signal);
  }
  // From here the sender may hold our confirmation, enough to check its guess on its own:
  // leaving, timing out or anything but a valid confirmation counts as a wrong code.
  const reply = await (async () => {
    await wire.write(
      encodeFrame({
        type: 'hello',
        version: PROTOCOL_VERSION,
        pake: spake.share.toString('hex'),
        confirm: keys.confirm.toString('hex'),
      }),
    );
    return wire.mustFrame();
  })().catch((err: unknown) => {
    gate?.wrong();
    throw err;
  });
  const proved = reply.type === 'confirm' && keys.verify(Buffer.from(reply.mac, 'hex'));
  if (!proved) {
    gate?.wrong();
    if (reply.type === 'error') throw remoteError(reply);
    if (reply.type !== 'confirm') throw protocolError(`expected a "confirm" frame, got "${reply.type}"`);
    throw new TransferError('NETKIT_TRANSFER_AUTH', `wrong code: ${WRONG}; nothing was written`);
  }
  gate?.right();
  admit?.();
  await wire.write(encodeFrame({ type: 'ready' }));
  wire.seal(sessionKeys(keys.ke, 'receiver'));
}
