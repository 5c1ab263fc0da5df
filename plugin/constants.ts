// The names and numbers of kubectl-hotupgrade that scripts and other tools rely on: exit
// codes, the field manager of its writes and the annotation it keeps the last image in.
import { GROUP } from '../controller/constants.ts';

/**
 * Exit codes. Scripts branch on these, so a number never changes its meaning; `--help` and
 * docs/plugin.md list the same table.
 */
export const EXIT = {
  ok: 0,
  /**
   * The command cannot act on the object as it is now (approve while not awaiting approval,
   * ...), the HotRelease to create exists already, or a watch ended Degraded (a
   * HotDeployment) or Failed, RolledBack or Aborted (a HotRelease).
   */
  state: 1,
  /**
   * A bad command line: unknown command or flag, a missing or malformed argument; also a
   * HotRelease (from flags or -f) the API server rejects as invalid (422, or 400 for a
   * field it does not know): what to fix is in the input, as with a bad flag.
   */
  usage: 2,
  /** The named object, container or resource type does not exist. */
  notFound: 3,
  /** The API server could not be reached, refused the credentials or failed the request. */
  api: 4,
  /** `--timeout` passed before the watched rollout or release completed. */
  timeout: 5,
  /** Ctrl-C (SIGINT) ended the command: the shell's 128 + 2. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table `--help` and docs/plugin.md show. */
export const EXIT_TABLE: [ExitCode, string][] = [
  [EXIT.ok, 'done (also: nothing to change, e.g. pause when already paused)'],
  [
    EXIT.state,
    'not possible in the current state (approve while not awaiting approval, ...); the release exists already; --until-complete ended Degraded, Failed, RolledBack or Aborted',
  ],
  [
    EXIT.usage,
    'usage error: unknown command or flag, missing or malformed argument, bad --kubeconfig or --context; a HotRelease the API server rejects as invalid',
  ],
  [EXIT.notFound, 'not found: the object, the container, or the resource type (CRD not installed)'],
  [EXIT.api, 'API error: server unreachable, credentials refused, request failed'],
  [EXIT.timeout, '--timeout passed before the rollout or release completed'],
  [EXIT.interrupted, 'interrupted by Ctrl-C'],
];

/** metadata.managedFields names this tool as the writer of what it changes. */
export const FIELD_MANAGER = 'kubectl-hotupgrade';

/**
 * On a HotDeployment: JSON {from, to, at, by}, the last image change made by `upgrade` or
 * `rollback`. `rollback` after a completed rollout goes back to `from` while the spec still
 * asks for `to` (status.currentImage then names the new image too, so it cannot tell).
 * The controller does not read it. (A candidate for controller/constants.ts ANNOTATIONS.)
 */
export const IMAGE_CHANGE_ANNOTATION = `${GROUP}/image-change`;
