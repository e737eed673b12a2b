import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { Command, Option } from 'commander';
import { bashScript } from '../../src/cli/completion/bash.js';
import { fishScript } from '../../src/cli/completion/fish.js';
import { type CompletionNode, completionTree, flagsOf } from '../../src/cli/completion/tree.js';
import { zshScript } from '../../src/cli/completion/zsh.js';
import { buildProgram } from '../../src/cli/program.js';
import { cli, memoryIo } from '../helpers/cli.js';
import { requireTool } from '../helpers/tools.js';

const execFileP = promisify(execFile);

/**
 * Each case is a command line whose last word is being completed, and the
 * candidates a shell must offer. The expected names are read from the
 * command tree, so renaming a flag does not break these tests; what they
 * pin down is that the scripts complete what the tree says.
 */
interface Case {
  words: string[];
  want: string[];
  /** files compares base names: shells differ in whether they show the directory. */
  files?: boolean;
}

async function netkitTree(): Promise<CompletionNode> {
  const program = await buildProgram({ io: memoryIo().value, argv: ['completion'], exitCode: 0 });
  return completionTree(program);
}

function at(root: CompletionNode, ...names: string[]): CompletionNode {
  let n = root;
  for (const name of names) {
    const next = n.commands.find((c) => c.name === name);
    assert.ok(next, `no command ${names.join(' ')} in the tree`);
    n = next;
  }
  return n;
}

const longs = (n: CompletionNode) => flagsOf(n).filter((f) => f.startsWith('--'));

async function cases(dir: string): Promise<Case[]> {
  const root = await netkitTree();
  const tcpServe = at(root, 'tcp', 'serve');
  // The idle timeout flag as it is spelled today (a hyphenated name), and its prefix.
  const idle =
    longs(tcpServe).find((f) => f.startsWith('--idle')) ?? longs(tcpServe).find((f) => /^--\w+-/.test(f));
  assert.ok(idle, 'tcp serve has a hyphenated flag');
  const prefix = idle.slice(0, 5);
  const chooser = tcpServe.options.find((o) => o.value.kind === 'choices' && o.long !== undefined);
  assert.ok(chooser?.long && chooser.value.kind === 'choices', 'tcp serve has a flag with choices');
  const fileFlag = tcpServe.options.find((o) => o.value.kind === 'file' && o.long !== undefined);
  assert.ok(fileFlag?.long, 'tcp serve has a flag taking a file');
  const plain = longs(tcpServe).find((f) => !tcpServe.options.find((o) => o.long === f)?.takesValue);
  assert.ok(plain, 'tcp serve has a flag without a value');
  const out: Case[] = [
    { words: ['netkit', 't'], want: root.commands.map((c) => c.name).filter((c) => c.startsWith('t')) },
    { words: ['netkit', 'tcp', ''], want: at(root, 'tcp').commands.map((c) => c.name) },
    { words: ['netkit', 'tcp', 'serve', prefix], want: longs(tcpServe).filter((f) => f.startsWith(prefix)) },
    { words: ['netkit', 'http', 'get', '--'], want: longs(at(root, 'http', 'get')) },
    { words: ['netkit', 'tcp', 'serve', chooser.long, ''], want: [...chooser.value.choices] },
    // A flag's value is skipped on the way: the path stays `tcp serve`.
    {
      words: ['netkit', 'tcp', 'serve', chooser.long, chooser.value.choices[0]!, plain.slice(0, 4)],
      want: longs(tcpServe).filter((f) => f.startsWith(plain.slice(0, 4))),
    },
    {
      words: ['netkit', 'tcp', 'serve', fileFlag.long, path.join(dir, 'ce')],
      want: ['cert.pem'],
      files: true,
    },
    { words: ['netkit', 'send', path.join(dir, 'ce')], want: ['cert.pem'], files: true },
    { words: ['netkit', 'completion', ''], want: ['bash', 'fish', 'zsh'] },
  ];
  for (const c of out) assert.ok(c.want.length > 0, `#${c.words.join(' ')}: the tree gives candidates`);
  // The expectations above must not all be the same list, or a script offering everything would pass.
  assert.ok(!out[3]!.want.includes('serve'));
  return out;
}

async function fixtureDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'netkit-completion-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'cert.pem'), '');
  await writeFile(path.join(dir, 'other.txt'), '');
  return dir;
}

async function script(shell: string): Promise<string> {
  const r = await cli(['completion', shell]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function check(results: string[][], all: Case[], shell: string): void {
  all.forEach((c, i) => {
    const got = (results[i] ?? []).map((s) => (c.files ? path.basename(s) : s));
    assert.deepEqual(
      [...new Set(got)].sort(),
      [...c.want].sort(),
      `#${i} ${shell}: ${JSON.stringify(c.words.join(' '))}`,
    );
  });
}

// PATH without netkit: the scripts must answer from their own tables, never by running it.
const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: tmpdir(), LANG: 'C.UTF-8' };

test('bash: the function completes subcommands, flags, choices and file names from COMP_WORDS', async (t) => {
  if (!(await requireTool(t, 'bash'))) return;
  const dir = await fixtureDir(t);
  const all = await cases(dir);
  const file = path.join(dir, 'netkit.bash');
  await writeFile(file, await script('bash'));
  const calls = all.map((c) => {
    const words = c.words.map((w) => `'${w}'`).join(' ');
    return `COMP_WORDS=(${words}); COMP_CWORD=${c.words.length - 1}; _netkit; printf '%s\\n' "\${COMPREPLY[@]}"; echo '<<end>>'`;
  });
  const { stdout } = await execFileP(
    'bash',
    ['--norc', '--noprofile', '-c', `source '${file}'\n${calls.join('\n')}`],
    {
      env: ENV,
    },
  );
  check(split(stdout, '<<end>>'), all, 'bash');
});

test('bash: --flag=value splits at the = and still completes the value', async (t) => {
  if (!(await requireTool(t, 'bash'))) return;
  const dir = await fixtureDir(t);
  const file = path.join(dir, 'netkit.bash');
  await writeFile(file, await script('bash'));
  const root = await netkitTree();
  const chooser = at(root, 'tcp', 'serve').options.find((o) => o.value.kind === 'choices');
  assert.ok(chooser?.long && chooser.value.kind === 'choices');
  const { stdout } = await execFileP(
    'bash',
    [
      '--norc',
      '-c',
      `source '${file}'; COMP_WORDS=(netkit tcp serve ${chooser.long} = ''); COMP_CWORD=5; _netkit; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { env: ENV },
  );
  assert.deepEqual(stdout.trim().split('\n').sort(), [...chooser.value.choices].sort());
});

/**
 * ZSH_CAPTURE completes each command line in a real interactive zsh on a
 * pseudo-terminal (zsh/zpty): compinit, the script loaded as the user
 * would, Tab pressed. A compadd wrapper prints every candidate zsh accepts
 * between two marks set by compprefuncs/comppostfuncs.
 */
const ZSH_CAPTURE = `
zmodload zsh/zpty
local load=$1 all out
shift
for line in "$@"; do
  zpty nk zsh -f -i
  zpty -w nk "PROMPT=''; $load"
  zpty -w nk 'bindkey "^I" complete-word; compprefuncs=( _nk_mark ); comppostfuncs=( _nk_mark ); _nk_mark() { print -r -- "<<nk""-mark>>" }'
  zpty -w nk 'compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd "$@"; return; fi; local -a hits; builtin compadd -A hits "$@"; (( $#hits )) && print -rl -- "nk""-hit:"\${^hits} }'
  zpty -n -w nk "$line"$'\\t'
  all=''
  integer deadline=$(( SECONDS + 10 ))
  while (( SECONDS < deadline )); do
    if zpty -r -t nk out; then
      all+=$out
      [[ $all == *'<<nk-mark>>'*'<<nk-mark>>'* ]] && break
    else
      sleep 0.02
    fi
  done
  zpty -d nk
  print -r -- "\${all}<<end>>"
done
`;

async function zshComplete(load: string, all: Case[], dir: string): Promise<string[][]> {
  const capture = path.join(dir, 'capture.zsh');
  await writeFile(capture, ZSH_CAPTURE);
  const { stdout } = await execFileP('zsh', ['-f', capture, load, ...all.map((c) => c.words.join(' '))], {
    env: { ...ENV, TERM: 'dumb' },
    timeout: 120_000,
  });
  return split(stdout, '<<end>>').map((chunk) => {
    const text = chunk.join('\n').replaceAll('\r', '');
    const inside = text.split('<<nk-mark>>')[1] ?? '';
    return inside
      .split('\n')
      .filter((l) => l.startsWith('nk-hit:'))
      .map((l) => l.slice('nk-hit:'.length));
  });
}

test('zsh: sourced after compinit, Tab in a real zsh offers what the tree says', async (t) => {
  if (!(await requireTool(t, 'zsh'))) return;
  const dir = await fixtureDir(t);
  const all = await cases(dir);
  const file = path.join(dir, 'netkit.zsh');
  await writeFile(file, await script('zsh'));
  await execFileP('zsh', ['-n', file]);
  const results = await zshComplete(`autoload -U compinit; compinit -u -D; source '${file}'`, all, dir);
  check(results, all, 'zsh');
});

test('zsh: installed as _netkit on $fpath, compinit picks it up by its #compdef line', async (t) => {
  if (!(await requireTool(t, 'zsh'))) return;
  const dir = await fixtureDir(t);
  const all = (await cases(dir)).slice(0, 3);
  const fpath = path.join(dir, 'functions');
  await mkdir(fpath);
  await writeFile(path.join(fpath, '_netkit'), await script('zsh'));
  const results = await zshComplete(
    `fpath=('${fpath}' $fpath); autoload -U compinit; compinit -u -D`,
    all,
    dir,
  );
  check(results, all, 'zsh (fpath)');
});

test('fish: complete -C gives the candidates, with descriptions', async (t) => {
  if (!(await requireTool(t, 'fish'))) return;
  const dir = await fixtureDir(t);
  const all = await cases(dir);
  const file = path.join(dir, 'netkit.fish');
  await writeFile(file, await script('fish'));
  const calls = all.map((c) => `complete -C ${fishQuote(c.words.join(' '))}; echo '<<end>>'`);
  const { stdout } = await execFileP(
    'fish',
    ['--no-config', '-c', `source ${fishQuote(file)}\n${calls.join('\n')}`],
    {
      env: ENV,
    },
  );
  const results = split(stdout, '<<end>>');
  check(
    results.map((lines) => lines.map((l) => l.split('\t')[0]!)),
    all,
    'fish',
  );
  // Subcommands come with their description.
  const tcp = results[1]!.find((l) => l.startsWith('serve\t'));
  assert.ok(tcp && tcp.length > 'serve\t'.length, `#1 fish: no description in ${JSON.stringify(results[1])}`);
});

test('the scripts are made from whatever tree they are given: hyphens, choices and new commands', async (t) => {
  const demo = new Command('demo-tool');
  const sub = demo.command('do-it').description("does it, 'quoted' and \\ backslashed");
  sub.addOption(new Option('--some-flag <mode>', 'a mode').choices(['a-b', 'c']));
  sub.addOption(new Option('--out-dir <dir>', 'where'));
  sub.addOption(new Option('--old-name <x>', 'hidden').hideHelp());
  const tree = completionTree(demo);
  const doIt = at(tree, 'do-it');
  assert.deepEqual(flagsOf(doIt), ['--some-flag', '--out-dir', '--help', '-h']);
  assert.equal(doIt.options.find((o) => o.long === '--out-dir')?.value.kind, 'dir');
  if (await requireTool(t, 'bash')) {
    const { stdout } = await execFileP(
      'bash',
      [
        '--norc',
        '-c',
        `${bashScript(tree)}
COMP_WORDS=(demo-tool do-it --some-flag ''); COMP_CWORD=3; _demo_tool; echo "\${COMPREPLY[*]}"
COMP_WORDS=(demo-tool do-it --so); COMP_CWORD=2; _demo_tool; echo "\${COMPREPLY[*]}"
complete -p demo-tool`,
      ],
      { env: ENV },
    );
    assert.deepEqual(stdout.trim().split('\n'), ['a-b c', '--some-flag', 'complete -F _demo_tool demo-tool']);
  }
  if (await requireTool(t, 'zsh')) await execFileP('zsh', ['-n', '-c', zshScript(tree)]);
  if (await requireTool(t, 'fish')) {
    const { stdout } = await execFileP(
      'fish',
      ['--no-config', '-c', `${fishScript(tree)}\ncomplete -C 'demo-tool '`],
      { env: ENV },
    );
    assert.equal(stdout, "do-it\tdoes it, 'quoted' and \\ backslashed\n");
  }
});

test('completion: an unknown shell is a usage error; --help shows how to install', async () => {
  const bad = await cli(['completion', 'tcsh']);
  assert.equal(bad.code, 2);
  const help = await cli(['completion', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /\/etc\/bash_completion\.d\/netkit/);
  assert.match(help.stdout, /source <\(netkit completion zsh\)/);
  assert.match(help.stdout, /~\/\.config\/fish\/completions\/netkit\.fish/);
});

/** split cuts a shell's output into the line lists printed before each `mark`. */
function split(stdout: string, mark: string): string[][] {
  return stdout
    .split(`${mark}\n`)
    .slice(0, -1)
    .map((chunk) => chunk.split('\n').filter((l) => l !== ''));
}

function fishQuote(s: string): string {
  return `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
