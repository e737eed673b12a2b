/** The page's inline stylesheet; constant so the Content-Security-Policy can allow it by hash. */
export const PAGE_STYLE = `
:root {
  color-scheme: light dark;
  --bg: #fafafa; --fg: #1d1d1f; --muted: #6b6b70; --line: #d8d8dc; --panel: #fff;
  --in: #0a6c3a; --out: #1f4fb5; --error: #b3261e; --info: #6b6b70;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #151517; --fg: #e8e8ea; --muted: #9a9aa0; --line: #34343a; --panel: #1d1d20;
    --in: #5fd08f; --out: #7fa6ff; --error: #ff7b72; --info: #9a9aa0;
  }
}
* { box-sizing: border-box; }
html, body { height: 100%; }
body {
  margin: 0; display: flex; flex-direction: column; gap: .75rem; padding: 1rem;
  max-width: 64rem; margin-inline: auto;
  font: 15px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg);
}
h1 { font-size: 1.1rem; margin: 0; font-weight: 600; }
h1 small { color: var(--muted); font-weight: 400; }
.row { display: flex; gap: .5rem; align-items: center; }
input {
  flex: 1; min-width: 0; padding: .45rem .6rem; font: inherit; font-family: ui-monospace, monospace;
  border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: inherit;
}
button {
  padding: .45rem .9rem; font: inherit; border: 1px solid var(--line); border-radius: 6px;
  background: var(--panel); color: inherit; cursor: pointer;
}
button:disabled, input:disabled { opacity: .5; cursor: default; }
#state { font-size: .9rem; color: var(--muted); }
#state::before {
  content: ''; display: inline-block; width: .6rem; height: .6rem; margin-right: .4rem;
  border-radius: 50%; background: var(--muted); vertical-align: baseline;
}
#state[data-state="connecting"]::before, #state[data-state="closing"]::before { background: #d49a00; }
#state[data-state="open"]::before { background: var(--in); }
#log {
  flex: 1; min-height: 12rem; overflow-y: auto; margin: 0; padding: .5rem;
  border: 1px solid var(--line); border-radius: 6px; background: var(--panel);
  font: 13px/1.45 ui-monospace, monospace;
}
.entry { display: flex; gap: .6rem; padding: .1rem 0; }
.entry .time { color: var(--muted); flex: none; }
.entry .dir { flex: none; width: 1ch; text-align: center; }
.entry .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.entry[data-dir="in"] .dir, .entry[data-dir="in"] .text { color: var(--in); }
.entry[data-dir="out"] .dir, .entry[data-dir="out"] .text { color: var(--out); }
.entry[data-dir="error"] .dir, .entry[data-dir="error"] .text { color: var(--error); }
.entry[data-dir="info"] .dir, .entry[data-dir="info"] .text { color: var(--info); font-style: italic; }
`;
