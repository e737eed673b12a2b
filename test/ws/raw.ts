/**
 * A WebSocket peer written by hand over a raw TCP socket, for the hostile
 * behaviour a real client library would never show: huge headers, frames
 * that lie about their length, never answering pings.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** rawRequest sends `request` and resolves with the first bytes answered (or '' when the server just closes). */
export function rawRequest(address: string, request: string | Buffer, ms = 3000): Promise<string> {
  const [host, port] = splitAddr(address);
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer within ${ms} ms; got ${JSON.stringify(got.slice(0, 200))}`));
    }, ms);
    s.on('data', (d) => {
      got += d.toString('latin1');
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.write(request);
  });
}

/** upgradeRequest is a valid upgrade request for `path`, with extra header lines. */
export function upgradeRequest(address: string, path: string, extra: string[] = []): string {
  const key = randomBytes(16).toString('base64');
  return [
    `GET ${path} HTTP/1.1`,
    `Host: ${address}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** rawUpgrade completes an opening handshake by hand and resolves with the socket (bytes after 101 are left unread). */
export function rawUpgrade(address: string, path: string): Promise<net.Socket> {
  const [host, port] = splitAddr(address);
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host, () => s.write(upgradeRequest(address, path)));
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      s.pause();
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`no 101: ${head.slice(0, 80)}`));
      else resolve(s);
    };
    s.on('data', onData);
    s.once('error', reject);
  });
}

/** clientFrame builds one masked client frame; `length` may lie about the payload that follows. */
export function clientFrame(
  opcode: number,
  payload: Buffer,
  options: { fin?: boolean; length?: number } = {},
): Buffer {
  const len = options.length ?? payload.length;
  const head: number[] = [(options.fin === false ? 0 : 0x80) | opcode];
  if (len < 126) head.push(0x80 | len);
  else if (len < 65536) head.push(0x80 | 126, len >> 8, len & 0xff);
  else {
    head.push(0x80 | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(len));
    head.push(...b);
  }
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([Buffer.from(head), mask, body]);
}

/** readCloseCode reads server frames until a close frame and returns its code (1005 when it has none). */
export async function readCloseCode(s: net.Socket, ms = 3000): Promise<number> {
  return (await readUntilClose(s, ms)).code;
}

/**
 * readUntilClose reads server frames until a close frame: its code (1005
 * when it has none) and the payload bytes of the data frames before it.
 */
export function readUntilClose(s: net.Socket, ms = 3000): Promise<{ code: number; dataBytes: number }> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let dataBytes = 0;
    const timer = setTimeout(() => {
      s.off('data', onData);
      reject(new Error(`no close frame within ${ms} ms (${dataBytes} data bytes read)`));
    }, ms);
    const onData = (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = (buf[0] as number) & 0x0f;
        let len = (buf[1] as number) & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) return;
        if (opcode === 8) {
          clearTimeout(timer);
          s.off('data', onData);
          resolve({ code: len >= 2 ? buf.readUInt16BE(off) : 1005, dataBytes });
          return;
        }
        if (opcode < 8) dataBytes += len;
        buf = buf.subarray(off + len);
      }
    };
    s.on('data', onData);
    s.resume();
  });
}

function splitAddr(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}
