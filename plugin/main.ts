#!/usr/bin/env node
// kubectl-hotupgrade: the kubectl plugin of hotupgrade. kubectl runs it for
// `kubectl hotupgrade ...` with the arguments after `hotupgrade`. See docs/plugin.md,
// or `kubectl hotupgrade --help`.
import { parse } from './args.ts';
import { connect } from './client.ts';
import { EXIT, type ExitCode } from './constants.ts';
import { helpHint, helpText } from './help.ts';
import { runStatus, runWrite, type Io } from './run.ts';
import { targetString } from './target.ts';
import { runWatch } from './watch.ts';

const NOT_AVAILABLE = 'not available yet: HotRelease arrives with the hub controller';

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
  if (inv.command === 'release') {
    io.err(`error: release: ${NOT_AVAILABLE}`);
    return EXIT.notAvailable;
  }
  if (inv.target.kind === 'HotRelease') {
    io.err(`error: ${inv.command} ${targetString(inv.target)}: ${NOT_AVAILABLE}`);
    return EXIT.notAvailable;
  }

  const conn = await connect(inv.conn);
  if (!conn.ok) {
    io.err(`error: ${conn.failure.message}`);
    return conn.failure.code;
  }
  const cluster = conn.cluster;
  try {
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
