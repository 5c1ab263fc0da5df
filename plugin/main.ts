#!/usr/bin/env node
// kubectl-hotupgrade: the kubectl plugin of hotupgrade. kubectl runs it for
// `kubectl hotupgrade ...` with the arguments after `hotupgrade`; cli.ts does the work.
//
// Every command starts a new process, and most of its start-up is compiling its modules
// (@kubernetes/client-node above all): Node's on-disk compile cache (in the OS's temp
// directory) makes the second and later runs start about 40 % faster. It must be on
// before those modules load, hence the dynamic import.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./cli.ts');
