import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isNetkitError } from '../../errors.js';
import { formatBytes } from '../../internal/text.js';
import { checkRelativePath, sendFiles, serveFiles } from '../../transfer/index.js';
import type { Chapter } from '../chapter.js';

/**
 * File transfer: the classic example sends a name, waits for "ok" and
 * streams bytes until close, in the clear, so the receiver cannot tell a
 * finished file from a broken connection, nor a sender from anyone else.
 * netkit encrypts under a key both sides derive from a short code (SPAKE2,
 * then AES-256-GCM, which authenticates every byte), announces sizes and
 * resumes from what already arrived.
 */
const chapter: Chapter = {
  title: 'File transfer: a directory, encrypted, refused, resumed',
  async run(t) {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'netkit-tour-'));
    try {
      const src = path.join(tmp, 'project');
      await mkdir(path.join(src, 'docs'), { recursive: true });
      await writeFile(path.join(src, 'README.md'), '# project\n');
      await writeFile(path.join(src, 'docs', 'guide.txt'), 'read me\n'.repeat(1000));
      await writeFile(path.join(src, 'data.bin'), randomBytes(32 * 1024 * 1024));
      const dest = path.join(tmp, 'received');
      const receiver = await serveFiles('127.0.0.1:0', { dir: dest, signal: t.signal });
      // The receiver generated the code; a person reads it out to whoever sends.
      const code = receiver.code;
      try {
        t.say(`receiver on ${receiver.addr.address}, writing into ${path.basename(dest)}/, code ${code}`);

        const wrong = await sendFiles([path.join(src, 'README.md')], receiver.addr.address, {
          code: `${code}-not`,
        }).catch((err: unknown) => err);
        t.say(
          `a sender with another code learns only that it is wrong, before anything is sent: ${isNetkitError(wrong) ? wrong.code : 'not refused'}`,
        );
        t.check(isNetkitError(wrong, 'NETKIT_TRANSFER_AUTH'), 'a wrong code is refused');

        // An interrupted first attempt: stop sending once the first MiB went out.
        const stop = new AbortController();
        const first = await sendFiles([path.join(src, 'data.bin')], receiver.addr.address, {
          code,
          signal: stop.signal,
          onEvent: (e) => {
            if (e.type === 'progress') stop.abort();
          },
        }).catch((err: unknown) => err);
        // The receiver's side of that transfer ends when it notices the connection is gone.
        await receiver.next();
        const part = await stat(path.join(dest, 'data.bin.part')).catch(() => null);
        t.say(`a send cut off mid-file left data.bin.part (${formatBytes(part?.size ?? 0)}), never data.bin`);
        t.check(first instanceof Error && part !== null, 'an interrupted file stays a .part');

        const sum = await sendFiles([src], receiver.addr.address, { code });
        let resumed = 0;
        const again = await sendFiles([path.join(src, 'data.bin')], receiver.addr.address, {
          code,
          onEvent: (e) => {
            if (e.type === 'file-end') resumed = e.resumedFrom;
          },
        }).catch((err: unknown) => err);
        t.say(
          `sent ${sum.files} files and ${sum.dirs} directories, ${formatBytes(sum.bytes)} in ${sum.seconds.toFixed(2)} s` +
            ` (${(sum.sentBytes / 2 ** 20 / sum.seconds).toFixed(0)} MiB/s), encrypted and authenticated`,
        );
        const same =
          (await readFile(path.join(dest, 'project', 'docs', 'guide.txt'), 'utf8')).length === 8000;
        t.check(sum.files === 3 && sum.dirs === 2 && same, 'the directory arrived with its layout');
        t.fact('files', sum.files);
        t.fact('bytes', sum.bytes);

        // data.bin.part belongs to "data.bin" at the top level; the directory's copy went to project/data.bin.
        const outcome = isNetkitError(again) ? again.code : 'sent';
        t.say(`sending data.bin again resumed from ${formatBytes(resumed)} (the part's bytes were verified)`);
        t.check(outcome === 'sent' && resumed > 0, 'the second attempt sent only the rest');
        const third = await sendFiles([src], receiver.addr.address, { code });
        t.say(
          `sending the directory again skips the ${third.alreadyReceived} files already there (same size and time), sending nothing`,
        );
        t.check(third.alreadyReceived === 3 && third.sentBytes === 0, 'files already received are skipped');
        await writeFile(path.join(src, 'README.md'), '# project, edited\n');
        const refused = await sendFiles([src], receiver.addr.address, { code }).catch((err: unknown) => err);
        t.say(
          `an edited README.md is refused: ${isNetkitError(refused) ? refused.code : 'not refused'} (no overwrite without --overwrite)`,
        );
        t.check(isNetkitError(refused, 'NETKIT_TRANSFER_EXISTS'), 'existing files are not overwritten');
      } finally {
        await receiver.close();
      }
      const traversal = (() => {
        try {
          checkRelativePath('../../etc/passwd');
          return 'accepted';
        } catch (err) {
          return isNetkitError(err) ? err.code : 'other';
        }
      })();
      t.say(`a sender naming "../../etc/passwd" is refused before any byte is written: ${traversal}`);
      t.check(traversal === 'NETKIT_TRANSFER_PATH', 'paths cannot leave the receiving directory');
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  },
};
export default chapter;
