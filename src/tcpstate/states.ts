/**
 * TCP's states as Linux numbers them in /proc/net/tcp (include/net/tcp_states.h),
 * with what each means and who has to act to leave it.
 */

/** TCP_STATES lists the states in kernel order (index + 1 is the kernel's number). */
export const TCP_STATES = [
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
] as const;

/** TcpStateName is one of TCP_STATES. */
export type TcpStateName = (typeof TCP_STATES)[number];

/** stateFromCode maps the kernel's number (1-12) to its name, or undefined. */
export function stateFromCode(code: number): TcpStateName | undefined {
  return TCP_STATES[code - 1];
}

/** isTcpState narrows a string to a state name (case-sensitive, kernel spelling). */
export function isTcpState(s: string): s is TcpStateName {
  return (TCP_STATES as readonly string[]).includes(s);
}

/** STATE_HELP says, per state, what it means and which side must act next. */
export const STATE_HELP: Readonly<Record<TcpStateName, string>> = Object.freeze({
  LISTEN: 'waiting for connections; the application accepts them',
  SYN_SENT: 'connect() sent a SYN and waits for the SYN-ACK; the peer must answer',
  SYN_RECV: 'a SYN arrived and was answered; the peer must send the final ACK',
  NEW_SYN_RECV:
    'a request waiting in the listener for the final ACK (Linux keeps it outside the socket table)',
  ESTABLISHED: 'open in both directions; either side may send, or close',
  FIN_WAIT1: 'this side closed and sent a FIN; the peer must ACK it',
  FIN_WAIT2: 'this side closed and its FIN was ACKed; the peer must close (send its FIN)',
  CLOSE_WAIT:
    'the peer closed (FIN received); this application must close its socket — a pile of these is a leak',
  CLOSING: 'both sides closed at once; waiting for the ACK of this side’s FIN',
  LAST_ACK: 'the peer closed first, then this side closed; waiting for the ACK of its FIN',
  TIME_WAIT:
    'this side closed first; the kernel keeps the pair for 2·MSL (60 s on Linux) so late segments die',
  CLOSE: 'closed, not yet freed',
});
