/**
 * commander, loaded with require(). It is CommonJS: imported from an ES
 * module, Node first scans its source for the names it exports, which
 * cost about 10 ms of every start of the CLI (measured on `netkit tcp
 * connect`); require() reads it as it is. Every CLI file imports
 * commander's values from here.
 */
import { createRequire } from 'node:module';
import type * as C from 'commander';

const commander = createRequire(import.meta.url)('commander') as typeof C;

export const Argument = commander.Argument;
export type Argument = C.Argument;
export const Command = commander.Command;
export type Command = C.Command;
export const CommanderError = commander.CommanderError;
export type CommanderError = C.CommanderError;
export const InvalidArgumentError = commander.InvalidArgumentError;
export type InvalidArgumentError = C.InvalidArgumentError;
export const Option = commander.Option;
export type Option = C.Option;
