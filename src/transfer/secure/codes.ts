import { randomInt } from 'node:crypto';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { InvalidArgumentError } from '../../errors.js';

/**
 * Transfer codes: `7-crossword-puzzle-apple`. The number is the room a
 * rendezvous pairs the two sides in; it is not secret (the rendezvous and
 * anyone on the path see it). The words are the secret the PAKE runs on:
 * each is one of BIP-39's 2,048 English words (chosen so that the first
 * four letters tell any two apart), 11 bits each, so the default three
 * words give 33 bits. An attacker gets one guess per connection (the
 * PAKE's property), and the receiver slows down after wrong guesses.
 */

/** CODE_WORDS is how many words a generated code has. */
export const CODE_WORDS = 3;
/** ROOMS is the range of generated room numbers: 1 to ROOMS − 1. */
export const ROOMS = 10_000;
/** MAX_CODE_BYTES bounds a code (a typed one too). */
export const MAX_CODE_BYTES = 256;

const ROOM = /^[a-z0-9_]{1,64}$/;

/** generateCode makes a fresh code: a room number and `words` random words. */
export function generateCode(words = CODE_WORDS): string {
  if (!Number.isInteger(words) || words < 2 || words > 8)
    throw new InvalidArgumentError('words', 'must be an integer from 2 to 8');
  const parts = [String(randomInt(1, ROOMS))];
  for (let i = 0; i < words; i++) parts.push(wordlist[randomInt(wordlist.length)]!);
  return parts.join('-');
}

/**
 * normalizeCode is the form both sides feed the PAKE: Unicode NFC, lower
 * case, and any run of spaces or hyphens as one hyphen, so `7 Crossword
 * puzzle` and `7-crossword-puzzle` are the same code. A code is refused
 * when it is empty, over MAX_CODE_BYTES, or holds control characters.
 */
export function normalizeCode(code: string): string {
  if (typeof code !== 'string') throw new InvalidArgumentError('code', 'must be a string');
  const norm = code
    .normalize('NFC')
    .toLowerCase()
    .trim()
    .split(/[\s-]+/)
    .filter((p) => p !== '')
    .join('-');
  if (norm === '') throw new InvalidArgumentError('code', 'is empty');
  if (Buffer.byteLength(norm) > MAX_CODE_BYTES)
    throw new InvalidArgumentError('code', `is over ${MAX_CODE_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f-\u009f]/.test(norm))
    throw new InvalidArgumentError('code', 'holds control characters');
  return norm;
}

/**
 * roomOf is the rendezvous room of a code: its first component, which
 * must be 1–64 letters, digits or underscores, followed by at least one
 * more component (the secret). The room is sent in the clear.
 */
export function roomOf(code: string): string {
  const norm = normalizeCode(code);
  const cut = norm.indexOf('-');
  const room = cut < 0 ? '' : norm.slice(0, cut);
  if (!ROOM.test(room)) {
    throw new InvalidArgumentError(
      'code',
      'a code for a rendezvous is ROOM-secret words (e.g. 7-crossword-puzzle-apple): the part before the first "-" names the room and is not secret',
    );
  }
  return room;
}
