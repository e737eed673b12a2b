import { type Resolution, resolveTCPAddr, resolveUDPAddr } from '../../addr/index.js';
import { Command } from '../commander.js';
import { EXIT } from '../exit-codes.js';
import { jsonOption } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';

/** resolveCommand defines `netkit resolve`: Go's ResolveTCPAddr/ResolveUDPAddr from the command line. */
export function resolveCommand(ctx: CliContext): Command {
  return new Command('resolve')
    .description("resolve an address exactly as Go's net.ResolveTCPAddr / ResolveUDPAddr would")
    .argument('<network>', 'tcp, tcp4, tcp6, udp, udp4 or udp6')
    .argument('<address>', 'host:port, e.g. localhost:http, [::1%lo]:80, :8080')
    .option('--all', 'show every candidate address and why the chosen one won')
    .addOption(jsonOption())
    .action(async (network: string, address: string, flags: { all?: boolean; json?: boolean }) => {
      const out = new Output(ctx.io, Boolean(flags.json));
      const opts = { signal: ctx.io.signal };
      const r = network.startsWith('udp')
        ? await resolveUDPAddr(network, address, opts)
        : await resolveTCPAddr(network, address, opts);
      out.event('resolved', toJson(r, Boolean(flags.all)), human(r, Boolean(flags.all)));
      ctx.exitCode = EXIT.OK;
    });
}

function formatChosen(r: Resolution): string {
  const host = r.zone ? `${r.ip}%${r.zone}` : r.ip;
  return r.family === 6 ? `[${host}]:${r.port}` : `${host}:${r.port}`;
}

function toJson(r: Resolution, all: boolean): Record<string, unknown> {
  return {
    network: r.network,
    host: r.host,
    address: formatChosen(r),
    ip: r.ip,
    port: r.port,
    zone: r.zone,
    family: r.family,
    ...(all ? { candidates: r.candidates } : {}),
  };
}

function human(r: Resolution, all: boolean): string {
  const chosen = formatChosen(r);
  if (!all) return chosen;
  const lines = [chosen];
  if (r.candidates.length === 0)
    lines.push(`  (no lookup: ${r.host === '' ? 'empty host means the unspecified address' : 'literal IP'})`);
  const width = Math.max(...r.candidates.map((c) => (c.zone ? `${c.ip}%${c.zone}` : c.ip).length), 0);
  for (const c of r.candidates) {
    const ip = (c.zone ? `${c.ip}%${c.zone}` : c.ip).padEnd(width);
    lines.push(`  ${c.chosen ? '*' : ' '} ${ip}  IPv${c.family}  ${c.reason}`);
  }
  return lines.join('\n');
}
