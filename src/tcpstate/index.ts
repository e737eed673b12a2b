/**
 * netkit/tcpstate: Linux's TCP socket table, read from /proc/net/tcp and
 * /proc/net/tcp6 directly (what netstat and ss show), with owning
 * processes, differences between samples, and a CLOSE_WAIT leak detector.
 *
 * @module netkit/tcpstate
 */
export { CloseWaitMonitor, type CloseWaitWarning, diffSockets, type StateChange, socketKey } from './diff.js';
export { ipv6Text, parseProcNetTcp, type TcpSocket, type TimerKind } from './parse.js';
export { type Owner, socketOwners } from './processes.js';
export { type ReadOptions, readTcpSockets } from './read.js';
export { isTcpState, STATE_HELP, stateFromCode, TCP_STATES, type TcpStateName } from './states.js';
