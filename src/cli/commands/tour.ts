import { formatDuration } from '../../internal/duration.js';
import { loadChapters, runTour, selectChapters } from '../../tour/run.js';
import { Command } from '../commander.js';
import { EXIT, stoppedExit } from '../exit-codes.js';
import { jsonOption } from '../options.js';
import { Output } from '../output.js';
import type { CliContext } from '../program.js';

/** tourCommand defines `netkit tour`: every capability, end to end on loopback, narrated. */
export function tourCommand(ctx: CliContext): Command {
  return new Command('tour')
    .description(
      'walk through netkit on loopback: addresses, a line server, sticky packets, relay faults, half-close, TCP states, UDP, HTTP, WebSocket, RPC, file transfer',
    )
    .argument('[chapters...]', 'run only these chapters, by number or name (see --list)')
    .option('--list', 'list the chapters with their numbers and exit')
    .addOption(jsonOption())
    .action(async (only: string[], flags: { list?: boolean; json?: boolean }) => {
      const out = new Output(ctx.io, Boolean(flags.json));
      const chapters = await loadChapters();
      if (flags.list) {
        for (const c of chapters) {
          out.event(
            'chapter',
            { n: c.n, slug: c.slug, title: c.chapter.title },
            `${String(c.n).padStart(2)}. ${c.slug.padEnd(18)} ${c.chapter.title}`,
          );
        }
        return;
      }
      const { unknown } = selectChapters(chapters, only);
      if (unknown.length > 0) {
        out.error(
          `unknown chapter ${unknown.join(', ')}; chapters are 1-${chapters.length} or a name from netkit tour --list`,
        );
        ctx.exitCode = EXIT.USAGE;
        return;
      }
      const started = Date.now();
      if (!out.json) ctx.io.stdout.write('netkit tour: everything below runs for real on loopback\n');
      const { passed, failed } = await runTour({
        only,
        signal: ctx.io.signal,
        reporter: {
          chapterStart: (n, title) => {
            if (!out.json) ctx.io.stdout.write(`\n${out.paint('cyan', `${n}. ${title}`)}\n`);
          },
          line: (text) => {
            if (!out.json) ctx.io.stdout.write(`   ${text}\n`);
          },
          chapterEnd: (n, title, r) => {
            const fields = {
              n,
              title,
              ok: r.ok,
              ms: Math.round(r.ms),
              facts: r.facts,
              error: r.error?.message,
            };
            const mark = r.ok
              ? out.paint('green', '✓ ok')
              : out.paint('red', `✗ FAILED: ${r.error?.message}`);
            out.event('chapter', fields, `   ${mark} (${formatDuration(r.ms)})`);
          },
        },
      });
      const summary = `${passed} of ${passed + failed} chapters passed in ${formatDuration(Date.now() - started)}`;
      out.event('summary', { passed, failed, ms: Date.now() - started }, `\n${summary}`);
      ctx.exitCode = failed > 0 ? EXIT.FAILURE : ctx.io.signal.aborted ? stoppedExit(ctx.io.signal) : EXIT.OK;
    });
}
