import { splitHostPort } from '../addr/split.js';
import { isLoopbackHost, newToken } from '../live/access.js';
import { Option } from './commander.js';
import { wrap } from './options.js';

/**
 * `--web [address]`, the live page of `states` and `relay`: one flag, one
 * reading. Loopback unless an address says otherwise; a bare port is a
 * loopback port (the page shows sockets, processes and traffic, and the
 * relay's can change faults, so reaching beyond this machine must be
 * spelled out), and an address beyond loopback gets a token in the URL.
 */

/** WEB_DEFAULT is where --web serves without an address: loopback, a free port. */
export const WEB_DEFAULT = '127.0.0.1:0';

/** parseWebAddress reads --web's value: a bare port is a loopback port; anything else is taken as typed. */
export function parseWebAddress(text: string): string {
  if (!/^\d+$/.test(text)) return text;
  if (Number(text) > 65535)
    throw new Error(`port ${text} is out of range: give 0 to 65535 (0 picks a free port)`);
  return `127.0.0.1:${text}`;
}

/** webOption is the `--web [address]` option; `what` says what the page shows. */
export function webOption(what: string): Option {
  return new Option(
    '--web [address]',
    `serve a live page of ${what} (default ${WEB_DEFAULT}; a bare port means 127.0.0.1:port; beyond loopback the URL carries a token)`,
  ).argParser(wrap(parseWebAddress));
}

/** webAddress is where the page goes for the flag's value: undefined without --web, WEB_DEFAULT for a bare --web. */
export function webAddress(flag: string | true | undefined): string | undefined {
  return flag === undefined ? undefined : flag === true ? WEB_DEFAULT : flag;
}

/** webToken is a fresh token for an address beyond loopback, undefined on loopback (or what is not HOST:PORT, which listen refuses). */
export function webToken(address: string): string | undefined {
  let host: string;
  try {
    host = splitHostPort(address).host;
  } catch {
    return undefined;
  }
  return isLoopbackHost(host) ? undefined : newToken();
}
