#!/usr/bin/env node
// The placeholder slot's program: does nothing, uses no CPU, accepts any arguments (the
// pod spec's command and args cannot change in place, so they are the business
// container's), and exits at once on SIGTERM or SIGINT.
// A production placeholder image can use any equivalent static binary (e.g. `pause`).
const stop = (): never => process.exit(0);
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
setInterval(() => undefined, 2 ** 31 - 1);
