/** The relay page's inline stylesheet; a constant the Content-Security-Policy allows by hash. */
export const RELAY_PAGE_STYLE = `
:root {
  color-scheme: light dark;
  --bg: #fafafa; --fg: #1d1d1f; --muted: #6b6b70; --line: #d8d8dc; --panel: #fff; --hi: #eef3ff;
  --up: #1f4fb5; --down: #0a6c3a; --error: #b3261e; --warn: #9a6700;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #151517; --fg: #e8e8ea; --muted: #9a9aa0; --line: #34343a; --panel: #1d1d20; --hi: #24304a;
    --up: #7fa6ff; --down: #5fd08f; --error: #ff7b72; --warn: #e3b341;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0 auto; padding: 1rem; max-width: 90rem;
  font: 15px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg);
}
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: baseline; margin-bottom: .75rem; }
h1 { font-size: 1.15rem; margin: 0; font-weight: 600; }
h1 small { color: var(--muted); font-weight: 400; }
h2 { font-size: 1rem; margin: 0 0 .5rem; }
h3 { font-size: .9rem; margin: .75rem 0 .35rem; color: var(--muted); font-weight: 600; }
#status { font-size: .9rem; color: var(--muted); }
#status::before {
  content: ''; display: inline-block; width: .6rem; height: .6rem; margin-right: .4rem;
  border-radius: 50%; background: var(--warn);
}
#status[data-state="open"]::before { background: var(--down); }
main { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); }
@media (min-width: 1100px) {
  main { grid-template-columns: minmax(0, 5fr) minmax(0, 6fr); }
  #proxies-section { grid-row: span 2; }
}
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; min-width: 0; }
.proxy + .proxy { border-top: 1px solid var(--line); margin-top: 1rem; padding-top: 1rem; }
.proxy-head { display: flex; gap: .5rem; align-items: center; justify-content: space-between; flex-wrap: wrap; }
.proxy-head h2 { margin: 0; overflow-wrap: anywhere; }
.badge { margin-left: .5rem; font-size: .8rem; font-weight: 400; padding: .05rem .45rem; border-radius: 999px; border: 1px solid var(--line); }
.badge[data-on="yes"] { color: var(--down); }
.badge[data-on="no"] { color: var(--error); }
.route { margin: .35rem 0 0; font-family: ui-monospace, monospace; font-size: .85rem; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; white-space: nowrap; }
td.mono { font-family: ui-monospace, monospace; overflow-wrap: break-word; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
ul.faults { list-style: none; margin: 0; padding: 0; }
ul.faults li {
  display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: .15rem .75rem; align-items: center;
  padding: .4rem 0; border-bottom: 1px solid var(--line); font-size: .85rem;
}
.fault-main { display: flex; flex-wrap: wrap; gap: .15rem .75rem; }
.fault-name { font-family: ui-monospace, monospace; font-weight: 600; overflow-wrap: anywhere; }
.fault-type { color: var(--up); }
.fault-attrs { grid-column: 1; font-family: ui-monospace, monospace; color: var(--muted); overflow-wrap: anywhere; }
ul.faults .actions { grid-column: 2; grid-row: 1 / span 2; white-space: nowrap; }
.actions button + button { margin-left: .35rem; }
tr[data-state="open"] td.state { color: var(--down); }
tr[data-state="rst"] td.state, tr[data-state="error"] td.state { color: var(--error); }
tr[data-state="fin"] td.state { color: var(--muted); }
tr[data-selected="yes"] { background: var(--hi); }
.empty { color: var(--muted); font-size: .9rem; margin: .35rem 0; }
.error { color: var(--error); margin: .35rem 0 0; overflow-wrap: anywhere; }
.error:empty { display: none; }
button, input, select {
  font: inherit; font-size: .9rem; padding: .3rem .6rem; border: 1px solid var(--line); border-radius: 6px;
  background: var(--panel); color: inherit;
}
button { cursor: pointer; }
button:disabled, input:disabled, select:disabled { opacity: .55; cursor: default; }
button:focus-visible, input:focus-visible, select:focus-visible, #traffic:focus-visible {
  outline: 2px solid var(--up); outline-offset: 1px;
}
button.select { font-family: ui-monospace, monospace; padding: .1rem .45rem; }
button[aria-pressed="true"] { background: var(--up); color: var(--panel); border-color: var(--up); }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: .75rem 0 0; padding: .5rem .75rem .75rem; min-width: 0; }
legend { font-size: .9rem; padding: 0 .3rem; }
.fields { display: flex; flex-wrap: wrap; gap: .5rem .75rem; margin-top: .25rem; }
.fields label { display: flex; flex-direction: column; gap: .15rem; font-size: .8rem; color: var(--muted); }
.fields input { color: var(--fg); width: 11rem; max-width: 100%; }
.fields select { color: var(--fg); min-width: 11rem; max-width: 100%; }
#conns td.mono { white-space: nowrap; overflow-wrap: normal; }
.buttons { display: flex; gap: .5rem; margin-top: .6rem; }
.traffic-bar { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; justify-content: space-between; }
#traffic-title { font-family: ui-monospace, monospace; font-size: .85rem; overflow-wrap: anywhere; }
.mode { border: 0; margin: 0; padding: 0; display: flex; gap: .75rem; align-items: center; }
.mode legend { float: left; padding: 0; margin-right: .25rem; color: var(--muted); }
#traffic-note { color: var(--muted); font-size: .85rem; margin: .35rem 0; }
#traffic-note:empty { display: none; }
#traffic {
  margin-top: .5rem; max-height: 28rem; min-height: 6rem; overflow: auto; padding: .5rem;
  border: 1px solid var(--line); border-radius: 6px; font: 12.5px/1.45 ui-monospace, monospace;
}
.chunk + .chunk { margin-top: .35rem; }
.chunk .head { color: var(--muted); white-space: pre-wrap; overflow-wrap: anywhere; }
.chunk .body { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; }
.chunk[data-stream="upstream"] .body { color: var(--up); }
.chunk[data-stream="downstream"] .body { color: var(--down); }
@media (max-width: 600px) {
  body { padding: .5rem; font-size: 14px; }
  section { padding: .5rem; }
  th, td { padding: .25rem .3rem; }
  td[data-col="target"], th.col-target { display: none; }
  .fields input, .fields select { width: 100%; }
  .fields label { flex: 1 1 45%; }
}
`;
