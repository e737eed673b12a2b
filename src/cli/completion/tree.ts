import type { Argument, Command, Option } from '../commander.js';

/**
 * The command tree as the completion scripts need it, read from commander
 * at run time so that a new command, flag or choice completes without
 * anyone touching the scripts.
 */

/** ValueKind is what a value is completed from: a fixed list, file names, directory names, or nothing. */
export type ValueKind =
  | { kind: 'choices'; choices: readonly string[] }
  | { kind: 'file' }
  | { kind: 'dir' }
  | { kind: 'none' };

/** CompletionOption is one visible flag. */
export interface CompletionOption {
  /** long is `--idle-timeout` (undefined for a short-only flag). */
  long: string | undefined;
  /** short is `-q` (undefined when there is none). */
  short: string | undefined;
  description: string;
  /** takesValue is true when the flag consumes the next word (`<value>`, not `[value]`). */
  takesValue: boolean;
  value: ValueKind;
}

/** CompletionNode is a command: its subcommands, flags and positional arguments. */
export interface CompletionNode {
  name: string;
  description: string;
  /** path is the subcommand words from the root (`['tcp', 'serve']`; `[]` for netkit itself). */
  path: readonly string[];
  commands: CompletionNode[];
  options: CompletionOption[];
  /** args are the positional arguments in order; the last may be variadic. */
  args: { name: string; variadic: boolean; value: ValueKind }[];
}

/**
 * completionTree reads `root` and its subcommands, recursively, into a
 * CompletionNode, keeping only what --help shows (hidden flags are old
 * spellings, not to be suggested).
 */
export function completionTree(root: Command): CompletionNode {
  return node(root, []);
}

function node(cmd: Command, path: readonly string[]): CompletionNode {
  const help = cmd.createHelp();
  const commands = help
    .visibleCommands(cmd)
    // commander's implicit `help [command]` is left out: `--help` is offered on every command.
    .filter((sub) => sub.name() !== 'help')
    .map((sub) => node(sub, [...path, sub.name()]))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    name: cmd.name(),
    description: oneLine(cmd.summary() || cmd.description()),
    path,
    commands,
    options: help.visibleOptions(cmd).map(option),
    args: cmd.registeredArguments.map((a) => ({
      name: a.name(),
      variadic: a.variadic,
      value: argumentValue(a),
    })),
  };
}

function option(o: Option): CompletionOption {
  return {
    long: o.long,
    short: o.short,
    description: oneLine(o.description),
    takesValue: o.required,
    value: optionValue(o),
  };
}

// Placeholders that name a path on disk; `--path <path>` of ws serve is a URL path, so `path` alone is not one.
const FILE_PLACEHOLDERS = new Set(['file', 'files', 'module', 'pem']);
const DIR_PLACEHOLDERS = new Set(['dir', 'directory']);

function optionValue(o: Option): ValueKind {
  if (!o.required && !o.optional) return { kind: 'none' };
  if (o.argChoices?.length) return { kind: 'choices', choices: o.argChoices };
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1]?.replace(/\.\.\.$/, '') ?? '';
  const long = o.long ?? '';
  if (DIR_PLACEHOLDERS.has(placeholder) || long.endsWith('-dir')) return { kind: 'dir' };
  if (FILE_PLACEHOLDERS.has(placeholder) || long.endsWith('-file')) return { kind: 'file' };
  return { kind: 'none' };
}

function argumentValue(a: Argument): ValueKind {
  if (a.argChoices?.length) return { kind: 'choices', choices: a.argChoices };
  // `<path…>`, `<path-and-address...>`, `<file>`: words that are (or start with) paths on disk.
  if (/(^|-)(paths?|files?)(-|$)/.test(a.name())) return { kind: 'file' };
  if (/(^|-)dirs?(-|$)/.test(a.name())) return { kind: 'dir' };
  return { kind: 'none' };
}

/** oneLine keeps the first line of a description, for shells that show one line per candidate. */
function oneLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

/** flagsOf lists a node's flag spellings, long and short. */
export function flagsOf(n: CompletionNode): string[] {
  return n.options.flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
}

/** valuedFlagsOf lists the spellings of a node's flags that consume the next word. */
export function valuedFlagsOf(n: CompletionNode): string[] {
  return n.options
    .filter((o) => o.takesValue)
    .flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined));
}

/** allNodes lists `root` and every command below it, parents first. */
export function allNodes(root: CompletionNode): CompletionNode[] {
  return [root, ...root.commands.flatMap(allNodes)];
}

/** pathKey is a node's path as the scripts spell it: `tcp serve`, '' for the root. */
export function pathKey(n: CompletionNode): string {
  return n.path.join(' ');
}

/**
 * valueCode is how the bash and zsh scripts spell a ValueKind: `w:WORDS`
 * for choices, `f` for files, `d` for directories, '' for nothing.
 */
export function valueCode(v: ValueKind): string {
  switch (v.kind) {
    case 'choices':
      return `w:${v.choices.join(' ')}`;
    case 'file':
      return 'f';
    case 'dir':
      return 'd';
    default:
      return '';
  }
}

/** shellQuote quotes `s` in single quotes for bash and zsh. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** ident makes a program name usable in a shell function name. */
export function ident(bin: string): string {
  return bin.replace(/[^A-Za-z0-9_]/g, '_');
}
