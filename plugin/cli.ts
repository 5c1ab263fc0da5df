// The command line of kubectl-hotupgrade (main.ts loads it): parse, connect, run one
// command, exit with its code. See docs/plugin.md, or `kubectl hotupgrade --help`.
import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { parse } from './args.ts';
import { connect } from './client.ts';
import { EXIT, type ExitCode } from './constants.ts';
import { helpHint, helpText } from './help.ts';
import { runStatus, runWrite, type Io } from './run.ts';
import { runRelease } from './runRelease.ts';
import { runWatch } from './watch.ts';

/** The text of a file, or of stdin for "-". */
const readText = (path: string): Promise<string> =>
  path === '-' ? text(process.stdin) : readFile(path, 'utf8');

async function main(argv: string[]): Promise<ExitCode> {
  const io: Io = {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    now: () => Date.now(),
  };
  const parsed = parse(argv);
  if (!parsed.ok) {
    io.err(`error: ${parsed.message}`);
    io.err(argv.length === 0 ? `\n${helpText()}` : helpHint(parsed.topic));
    return EXIT.usage;
  }
  const inv = parsed.invocation;
  if (inv.command === 'help') {
    io.out(helpText(inv.topic));
    return EXIT.ok;
  }

  const conn = await connect(inv.conn);
  if (!conn.ok) {
    io.err(`error: ${conn.failure.message}`);
    return conn.failure.code;
  }
  const cluster = conn.cluster;
  try {
    if (inv.command === 'release') return await runRelease(cluster, inv, io, readText);
    if (inv.command !== 'status') return await runWrite(cluster, inv, io);
    if (!inv.watch) return await runStatus(cluster, inv, io);
    const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    return await runWatch(cluster, inv, { ...io, tty: process.stdout.isTTY === true, interrupted });
  } finally {
    await cluster.client.close();
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Whatever might still hold the event loop (a socket closing slowly), the answer is known.
setTimeout(() => process.exit(code), 2000).unref();
