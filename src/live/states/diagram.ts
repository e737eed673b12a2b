import { escapeHtml } from '../../internal/html.js';
import type { TcpStateName } from '../../tcpstate/index.js';

/**
 * The TCP state diagram as SVG: the same boxes, edges and labels as the
 * text diagram `netkit states --explain` prints (src/tcpstate/diagram.ts,
 * RFC 793 figure 6 as Stevens draws it), laid out on the same grid. Each
 * box is focusable and carries its kernel state name in data-state; the
 * page's script fills in the counts. All of it is constant markup.
 */

const W = 150;
const H = 52;
const LEFT = 110;
const MID = 390;
const RIGHT = 670;

interface Box {
  /** state is the kernel's name (CLOSED is drawn for CLOSE). */
  state: TcpStateName;
  x: number;
  y: number;
}

/** BOXES are the diagram's states at their centres; CLOSED appears twice, as in the text diagram. */
const BOXES: readonly Box[] = [
  { state: 'CLOSE', x: MID, y: 36 },
  { state: 'LISTEN', x: LEFT, y: 126 },
  { state: 'SYN_SENT', x: RIGHT, y: 126 },
  { state: 'SYN_RECV', x: LEFT, y: 216 },
  { state: 'ESTABLISHED', x: MID, y: 306 },
  { state: 'FIN_WAIT1', x: LEFT, y: 400 },
  { state: 'CLOSE_WAIT', x: RIGHT, y: 400 },
  { state: 'CLOSING', x: MID, y: 480 },
  { state: 'FIN_WAIT2', x: LEFT, y: 560 },
  { state: 'LAST_ACK', x: RIGHT, y: 560 },
  { state: 'TIME_WAIT', x: LEFT, y: 640 },
  { state: 'CLOSE', x: RIGHT, y: 640 },
];

interface Edge {
  /** path is the line, ending at the box it enters (an arrowhead is drawn there). */
  path: string;
  label: string;
  at: [x: number, y: number, anchor: 'start' | 'middle' | 'end'];
}

/** EDGES are the text diagram's arrows, with its labels. */
const EDGES: readonly Edge[] = [
  { path: 'M350 62V82H110V100', label: 'passive open: listen()', at: [230, 77, 'middle'] },
  { path: 'M430 62V82H670V100', label: 'active open: connect() / SYN', at: [550, 77, 'middle'] },
  { path: 'M110 152V190', label: 'rcv SYN / SYN,ACK', at: [120, 175, 'start'] },
  { path: 'M110 242V262H350V280', label: 'rcv ACK', at: [230, 257, 'middle'] },
  { path: 'M670 152V262H430V280', label: 'rcv SYN,ACK / ACK', at: [550, 257, 'middle'] },
  { path: 'M350 332V352H110V374', label: 'active close: close / FIN', at: [230, 347, 'middle'] },
  { path: 'M430 332V352H670V374', label: 'passive close: rcv FIN / ACK', at: [550, 347, 'middle'] },
  { path: 'M185 400H390V454', label: 'rcv FIN / ACK (both closed)', at: [290, 394, 'middle'] },
  { path: 'M110 426V534', label: 'rcv ACK of FIN', at: [120, 480, 'start'] },
  { path: 'M390 506V640H185', label: 'rcv ACK of FIN', at: [400, 580, 'start'] },
  { path: 'M110 586V614', label: 'rcv FIN / ACK', at: [120, 603, 'start'] },
  { path: 'M670 426V534', label: 'close / FIN', at: [660, 480, 'end'] },
  { path: 'M670 586V614', label: 'rcv ACK of FIN', at: [660, 603, 'end'] },
  { path: 'M110 666V690H670V666', label: '2MSL timeout (60 s on Linux)', at: [390, 685, 'middle'] },
];

/** DIAGRAM_STATES are the kernel states that have a box (NEW_SYN_RECV is counted with SYN_RECV). */
export const DIAGRAM_STATES: ReadonlySet<TcpStateName> = new Set(BOXES.map((b) => b.state));

function box(b: Box): string {
  const name = b.state === 'CLOSE' ? 'CLOSED' : b.state;
  const e = escapeHtml;
  return (
    `<g class="state" data-state="${e(b.state)}" tabindex="0" role="button" aria-label="${e(name)}: 0 sockets">` +
    `<rect x="${b.x - W / 2}" y="${b.y - H / 2}" width="${W}" height="${H}" rx="8"></rect>` +
    `<text class="name" x="${b.x}" y="${b.y - 5}">${e(name)}</text>` +
    `<text class="count" x="${b.x}" y="${b.y + 16}">0</text>` +
    `<text class="warn" x="${b.x + W / 2 - 12}" y="${b.y - H / 2 + 16}" aria-hidden="true">\u26a0</text>` +
    '</g>'
  );
}

function edge(d: Edge): string {
  const [x, y, anchor] = d.at;
  return (
    `<path class="edge" d="${d.path}" marker-end="url(#arrow)"></path>` +
    `<text class="label" x="${x}" y="${y}" text-anchor="${anchor}">${escapeHtml(d.label)}</text>`
  );
}

/** DIAGRAM_SVG is the diagram's markup. */
export const DIAGRAM_SVG =
  '<svg id="diagram" viewBox="0 0 780 705" role="group" aria-label="TCP state diagram: select a state to explain it">' +
  '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">' +
  '<path d="M0 0L10 5L0 10z"></path></marker></defs>' +
  EDGES.map(edge).join('') +
  BOXES.map(box).join('') +
  '</svg>';
