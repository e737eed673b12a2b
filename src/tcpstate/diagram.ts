import { STATE_HELP, TCP_STATES, type TcpStateName } from './states.js';

/**
 * The TCP state diagram (RFC 793 figure 6, as Stevens draws it) with the
 * kernel's spelling of each state, so the names match `netkit states`.
 *
 * Each box label is written `{NAME}`, which is exactly as wide as the label
 * drawn unmarked (` NAME `) or marked (`*NAME*`): the art stays aligned
 * whatever is marked, and what is below is what gets printed.
 */
const ART = `
                                          +-------------+
                                          |  {CLOSED}   |
                                          +-------------+
             passive open: listen()          |       |          active open: connect() / SYN
          +----------------------------------+       +----------------------------------+
          v                                                                             v
   +-------------+                                                               +-------------+
   |  {LISTEN}   |                                                               | {SYN_SENT}  |
   +-------------+                                                               +-------------+
          |  rcv SYN / SYN,ACK                                                          |
          v                                                                             |
   +-------------+                                                                      |
   | {SYN_RECV}  |                                                                      |
   +-------------+                                                                      |
          |  rcv ACK                                                rcv SYN,ACK / ACK   |
          +----------------------------------+       +----------------------------------+
                                             v       v
                                          +-------------+
                                          |{ESTABLISHED}|
                                          +-------------+
   ACTIVE CLOSE: this side closes first      |       |   PASSIVE CLOSE: the peer closes first
             close / FIN                     |       |                  rcv FIN / ACK
          +----------------------------------+       +----------------------------------+
          v                                                                             v
   +-------------+                                                               +-------------+
   | {FIN_WAIT1} |------------------------+                                      |{CLOSE_WAIT} |
   +-------------+   rcv FIN / ACK        |                                      +-------------+
          |          (both closed)        v                                             |
          |                        +-------------+                                      |
          |  rcv ACK of FIN        |  {CLOSING}  |                          close / FIN  |
          v                        +-------------+                                      v
   +-------------+                        |                                      +-------------+
   | {FIN_WAIT2} |                        |  rcv ACK of FIN                      | {LAST_ACK}  |
   +-------------+                        |                                      +-------------+
          |                               |                                             |
          |  rcv FIN / ACK                |                               rcv ACK of FIN  |
          v                               |                                             v
   +-------------+                        |                                      +-------------+
   | {TIME_WAIT} |<-----------------------+                                      |  {CLOSED}   |
   +-------------+                                                               +-------------+
          |                                                                             ^
          +--------------------- 2MSL timeout (60 s on Linux) --------------------------+
`
  .split('\n')
  .slice(1, -1);

const LABEL = /\{([A-Z_0-9]+)\}/g;

/**
 * renderStateDiagram draws the diagram with the states in `marked` picked
 * out: as `*NAME*` by default, or through `mark` (say, to colour them on a
 * terminal). `mark` may add invisible characters only; the layout is
 * computed on the plain names. CLOSED stands for the kernel's CLOSE.
 */
export function renderStateDiagram(
  marked: ReadonlySet<TcpStateName>,
  mark?: (name: string) => string,
): string {
  return ART.map((line) =>
    line.replace(LABEL, (_, name: string) => {
      const state = name === 'CLOSED' ? 'CLOSE' : name;
      if (!marked.has(state as TcpStateName)) return ` ${name} `;
      return mark ? ` ${mark(name)} ` : `*${name}*`;
    }),
  ).join('\n');
}

/** explainStates returns `NAME  what it means` for each marked state, in the kernel's order. */
export function explainStates(marked: ReadonlySet<TcpStateName>): string[] {
  const names = TCP_STATES.filter((s) => marked.has(s));
  const width = Math.max(0, ...names.map((s) => s.length));
  return names.map((s) => `${s.padEnd(width)}  ${STATE_HELP[s]}`);
}
