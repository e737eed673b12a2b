/**
 * The stylesheet of `netkit states --web`; constant so the
 * Content-Security-Policy can allow it by hash. One column on a phone,
 * the diagram beside the sockets and the timeline on a laptop.
 */
export const STATES_STYLE = `
:root {
  color-scheme: light dark;
  --bg: #fafafa; --fg: #1d1d1f; --muted: #6b6b70; --line: #d8d8dc; --panel: #fff;
  --accent: #1f4fb5; --active: #e6eefc; --ok: #0a6c3a; --warn: #b3261e; --warn-bg: #fdecea;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #151517; --fg: #e8e8ea; --muted: #9a9aa0; --line: #34343a; --panel: #1d1d20;
    --accent: #7fa6ff; --active: #22304d; --ok: #5fd08f; --warn: #ff7b72; --warn-bg: #3a1d1b;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0 auto; padding: 1rem; max-width: 90rem;
  font: 15px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg);
}
header { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline; margin-bottom: .75rem; }
h1 { font-size: 1.15rem; margin: 0; font-weight: 600; }
h2 { font-size: 1rem; margin: 0 0 .5rem; font-weight: 600; }
h2 small, #filter, #status { color: var(--muted); font-weight: 400; font-size: .9rem; }
#status::before {
  content: ''; display: inline-block; width: .6rem; height: .6rem; margin-right: .4rem;
  border-radius: 50%; background: var(--muted);
}
#status[data-state="live"]::before { background: var(--ok); }
#status[data-state="error"]::before { background: var(--warn); }
#warnings:empty { display: none; }
#warnings { margin: 0 0 .75rem; padding: 0; list-style: none; }
.warning {
  padding: .5rem .75rem; margin-bottom: .35rem; border: 1px solid var(--warn); border-radius: 6px;
  background: var(--warn-bg); color: var(--warn); overflow-wrap: anywhere;
}
.grid { display: grid; gap: 1rem; grid-template-columns: 1fr; }
@media (min-width: 62rem) {
  .grid { grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); }
  .diagram-panel { grid-row: span 2; }
}
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; min-width: 0; }
#diagram { width: 100%; height: auto; display: block; }
#diagram .edge { fill: none; stroke: var(--muted); stroke-width: 1.5; }
#diagram marker path { fill: var(--muted); }
#diagram .label { fill: var(--muted); font-size: 12px; }
#diagram .state { cursor: pointer; outline: none; }
#diagram .state rect { fill: var(--panel); stroke: var(--line); stroke-width: 2; }
#diagram .state .name { fill: var(--fg); font-size: 14px; font-weight: 600; text-anchor: middle; }
#diagram .state .count { fill: var(--muted); font-size: 15px; text-anchor: middle; font-variant-numeric: tabular-nums; }
#diagram .state.active rect { fill: var(--active); stroke: var(--accent); }
#diagram .state.active .count { fill: var(--accent); font-weight: 700; }
#diagram .state.selected rect { stroke: var(--fg); stroke-width: 3; }
#diagram .state:focus-visible rect { stroke: var(--accent); stroke-width: 4; stroke-dasharray: 6 3; }
#diagram .state .warn { display: none; fill: var(--warn); font-size: 16px; text-anchor: middle; }
#diagram .state.leak rect { stroke: var(--warn); fill: var(--warn-bg); }
#diagram .state.leak .warn { display: inline; }
#explain { margin-top: .5rem; min-height: 3.5rem; }
#explain h3 { margin: 0; font-size: .95rem; font-family: ui-monospace, monospace; }
#explain p { margin: .2rem 0 0; }
#explain .hint { color: var(--muted); }
.table-wrap { overflow-x: auto; max-height: 28rem; overflow-y: auto; }
table { border-collapse: collapse; width: 100%; font: 13px/1.4 ui-monospace, monospace; }
th, td { text-align: left; padding: .2rem .45rem .2rem 0; white-space: nowrap; vertical-align: top; }
th { color: var(--muted); font-weight: 400; position: sticky; top: 0; background: var(--panel); }
td.num, th.num { text-align: right; }
tr.selected td { background: var(--active); }
tr.leak td { color: var(--warn); }
.badge { display: inline-block; margin-left: .4rem; padding: 0 .35rem; border-radius: 4px; background: var(--warn); color: var(--panel); font: 11px/1.5 system-ui, sans-serif; }
#more { color: var(--muted); font-size: .85rem; margin: .4rem 0 0; }
#more:empty { display: none; }
#timeline { list-style: none; margin: 0; padding: 0; max-height: 24rem; overflow-y: auto; font: 13px/1.45 ui-monospace, monospace; }
#timeline li { display: flex; flex-wrap: wrap; gap: 0 .6rem; padding: .1rem 0; border-bottom: 1px solid var(--line); }
#timeline .time { color: var(--muted); }
#timeline .kind { min-width: 5.5rem; }
#timeline li[data-kind="appeared"] .kind { color: var(--ok); }
#timeline li[data-kind="vanished"] .kind { color: var(--muted); }
#timeline li[data-kind="changed"] .kind { color: var(--accent); }
#timeline .addr { overflow-wrap: anywhere; }
.empty { color: var(--muted); font-style: italic; }
@media (max-width: 36rem) {
  body { padding: .5rem; font-size: 14px; }
  /* The diagram is drawn at about half size here: larger type keeps names and counts legible. */
  #diagram .state .name { font-size: 19px; }
  #diagram .state .count { font-size: 20px; }
  #diagram .label { font-size: 14px; }
  .panel { padding: .5rem; }
  table { font-size: 12px; }
}
`;
