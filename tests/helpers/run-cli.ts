/** Entry for tests that run the real CLI as a child process: `node --import tsx tests/helpers/run-cli.ts <args>`. */
import { runCli } from '../../src/main.js';

process.exitCode = await runCli(process.argv);
