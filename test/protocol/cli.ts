// Runs the conformance suite against a slot program:
//   node test/protocol/cli.ts --cmd "node launcher/main.ts -- ./my-server" [--placeholder-cmd "..."] [-- <vitest args>]
// The command is started once per slot process, with the protocol's environment
// (HOTUPGRADE_DIR, HOTUPGRADE_SLOT, HOTUPGRADE_VERSION, HOTUPGRADE_LISTEN, HOTUPGRADE_SHM_DIR,
// ...); it must serve the demo's HTTP API (GET /s/<id>, GET /version, see demo/server.ts).
// Without --cmd the suite runs this repository's demo server. --placeholder-cmd names the
// placeholder program (placeholder.test.ts; default: this repository's). Exit status: vitest's.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CMD_ENV, PLACEHOLDER_CMD_ENV, REPO, splitCommand } from './harness.ts';

const USAGE = `usage: node test/protocol/cli.ts [--cmd "COMMAND LINE"] [--placeholder-cmd "COMMAND LINE"] [-- VITEST ARGS]
  --cmd              the slot program under test, one command line ('...' and "..." quote); default: ${CMD_ENV} or the demo server
  --placeholder-cmd  the placeholder program under test; default: ${PLACEHOLDER_CMD_ENV} or placeholder/main.ts
  e.g.               node test/protocol/cli.ts --cmd "node launcher/main.ts -- node demo/server.ts" -- -t handover`;

function main(): void {
  const { values, positionals } = parseArgs({
    options: {
      cmd: { type: 'string' },
      'placeholder-cmd': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const env = { ...process.env };
  if (values.cmd !== undefined) {
    if (splitCommand(values.cmd).length === 0) {
      console.error(`--cmd is empty: give the slot program's command line\n${USAGE}`);
      process.exit(64);
    }
    env[CMD_ENV] = values.cmd;
  }
  const placeholder = values['placeholder-cmd'];
  if (placeholder !== undefined) {
    if (splitCommand(placeholder).length === 0) {
      console.error(`--placeholder-cmd is empty: give the placeholder program's command line\n${USAGE}`);
      process.exit(64);
    }
    env[PLACEHOLDER_CMD_ENV] = placeholder;
  }
  console.error(
    `conformance: slot program: ${env[CMD_ENV] ?? `${process.execPath} demo/server.ts (default)`}; ` +
      `placeholder: ${env[PLACEHOLDER_CMD_ENV] ?? `${process.execPath} placeholder/main.ts (default)`}`,
  );
  const vitest = path.join(REPO, 'node_modules/vitest/vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', '--project', 'protocol', ...positionals], {
    cwd: REPO,
    env,
    stdio: 'inherit',
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

main();
