import { Argument, Command } from '../commander.js';
import { bashScript } from '../completion/bash.js';
import { fishScript } from '../completion/fish.js';
import { completionTree } from '../completion/tree.js';
import { zshScript } from '../completion/zsh.js';
import { EXIT } from '../exit-codes.js';
import type { CliContext } from '../program.js';

const SHELLS = { bash: bashScript, zsh: zshScript, fish: fishScript } as const;

/**
 * completionCommand defines `netkit completion bash|zsh|fish`: print a
 * completion script made from the command tree this netkit has, so every
 * command, flag and choice completes, and nothing runs at Tab time.
 */
export function completionCommand(ctx: CliContext): Command {
  return new Command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(Object.keys(SHELLS)))
    .addHelpText(
      'after',
      `
The script holds the commands, flags and choices of this netkit; print it again
after upgrading.

Install:
  bash  netkit completion bash > /etc/bash_completion.d/netkit
        (or, for one user: source <(netkit completion bash) in ~/.bashrc)
  zsh   source <(netkit completion zsh)              # in ~/.zshrc, after compinit
        (or save it as _netkit in a directory on $fpath)
  fish  netkit completion fish > ~/.config/fish/completions/netkit.fish`,
    )
    .action((shell: keyof typeof SHELLS, _flags: unknown, self: Command) => {
      let root = self;
      while (root.parent) root = root.parent;
      ctx.io.stdout.write(SHELLS[shell](completionTree(root)));
      ctx.exitCode = EXIT.OK;
    });
}
