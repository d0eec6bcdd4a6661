/**
 * The composition root of the `videoshop` program: the CLI's commands and the server's (`serve`, `worker`). Neither
 * shell imports the other; they meet here.
 */
import { runCli as runCommands } from './cli/main.js';
import { addServerCommands } from './server/command.js';

export function runCli(argv: string[], print: (line: string) => void = console.log): Promise<number> {
  return runCommands(argv, print, [addServerCommands]);
}
