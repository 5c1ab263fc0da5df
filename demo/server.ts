// The demo business server: a small HTTP service that keeps a counter per session in
// shared memory and serves under the hot-upgrade protocol through the SDK.
//   GET /s/<id>   count one hit of session <id>; answers {"session","count","version","slot","pod"}
//   GET /version  which version and slot answered
//   GET /slow/<ms> answers after <ms> (at most 10 s), touching no state: a request in
//                  flight that a drain must wait for, for tests
// DEMO_FAIL_START (non-empty): exit 1 at start, a release that cannot start.
import type http from 'node:http';
import { hostname } from 'node:os';
import { attachShared, serveHot } from '../sdk/index.ts';
import { readSlotConfig } from '../sdk/config.ts';
import { ENV } from '../sdk/constants.ts';
import { SessionTable, regionBytes } from './sessions.ts';

const env = process.env;
// A release that fails at start on purpose (the demo:crash image sets it): exit 1 before
// serving, with one JSON line that names the variable, for the tests of failed upgrades.
if (env.DEMO_FAIL_START) {
  const msg = `DEMO_FAIL_START is set (${JSON.stringify(env.DEMO_FAIL_START)}): failing at start on purpose`;
  process.stderr.write(JSON.stringify({ level: 50, time: Date.now(), pid: process.pid, msg }) + '\n');
  process.exit(1);
}
const SESSIONS = Number(env.DEMO_SESSIONS ?? 65_536);
// Under the launcher the slot and version are the launcher's; the child is told through env.
const version = env[ENV.version] ?? 'dev';
const slot = env[ENV.slot] ?? '-';
// The pod that answers (its hostname in a pod), so that a client behind a Service can tell
// whose counter of a session it reads: each pod keeps its own.
const pod = env.POD_NAME ?? hostname();
const shmDir = env[ENV.shmDir] ?? (env[ENV.controlFd] ? '/dev/shm' : readSlotConfig(env).shmDir);

let table: SessionTable | undefined;

const handler: http.RequestListener = (req, res) => {
  const url = req.url ?? '/';
  if (url.startsWith('/s/')) {
    const count = table?.hit(Number(url.slice(3)));
    if (count === null || count === undefined) {
      res.writeHead(count === null ? 400 : 503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: count === null ? `session id must be 0..${SESSIONS - 1}` : 'state not attached',
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      `{"session":${url.slice(3)},"count":${count},"version":${JSON.stringify(version)},"slot":${JSON.stringify(slot)},"pod":${JSON.stringify(pod)}}`,
    );
    return;
  }
  if (url.startsWith('/slow/')) {
    const ms = Math.min(Math.max(0, Number(url.slice(6)) || 0), 10_000);
    setTimeout(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sleptMs: ms })),
      ms,
    );
    return;
  }
  if (url === '/version') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version, slot, pid: process.pid }));
    return;
  }
  res.writeHead(404).end();
};

await serveHot(handler, {
  attach: () => {
    const region = attachShared(shmDir, 'demo-sessions', regionBytes(SESSIONS));
    table = new SessionTable(region.buffer, SESSIONS);
  },
  detach: () => {
    table = undefined;
  },
});
