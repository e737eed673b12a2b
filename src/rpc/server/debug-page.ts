import { escapeHtml as esc, htmlPage } from '../../internal/html.js';
import type { MethodStats } from '../registry.js';

/** renderDebugPage is the /debug/rpc page: every service, its methods and their call counts, as Go shows them. */
export function renderDebugPage(stats: readonly MethodStats[]): string {
  const services = new Map<string, MethodStats[]>();
  for (const s of stats) services.set(s.service, [...(services.get(s.service) ?? []), s]);
  let html = '';
  for (const [service, methods] of services) {
    html += `<hr>Service ${esc(service)}<hr><table><tr><th>Method</th><th>Calls</th></tr>`;
    for (const m of methods) html += `<tr><td>${esc(m.method)}</td><td class="n">${m.calls}</td></tr>`;
    html += '</table>';
  }
  return htmlPage('Services', 'td, th { padding: 2px 12px; } td.n { text-align: right; }', html);
}
