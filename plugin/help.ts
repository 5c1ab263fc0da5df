// The help of kubectl-hotupgrade: what each command does to which field, with examples and
// the exit codes. docs/plugin.md says the same at more length. Pure.
import type { Command } from './args.ts';
import { EXIT, EXIT_TABLE } from './constants.ts';

const CONNECTION = `Connection flags (as kubectl's):
      --kubeconfig PATH   kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
      --context NAME      kubeconfig context (default: the current context)
  -n, --namespace NS      namespace (default: the context's, else "default")
  -h, --help              this help`;

const TYPES = `TYPE/NAME is hotdeployment/NAME (also hd/NAME) or hotrelease/NAME (also hr/NAME).
HotReleases (releases across clusters) arrive with the hub controller: until then,
commands on hr/NAME exit ${EXIT.notAvailable}.`;

export function exitCodes(): string {
  return `Exit codes:\n${EXIT_TABLE.map(([code, what]) => `  ${String(code).padStart(3)}  ${what}`).join('\n')}`;
}

const OVERVIEW = `kubectl hotupgrade: watch and steer hot upgrades (HotDeployments, hotupgrade.io/v1alpha1)

Usage: kubectl hotupgrade COMMAND TYPE/NAME [flags]

Commands:
  status    TYPE/NAME   show a rollout: images, counts, batch progress, conditions, pods by version
                        (-w: live view; --until-complete: wait for the outcome)
  upgrade   hd/NAME IMAGE
                        set a new image: a hot upgrade of the hot container, in place
  approve   TYPE/NAME   let the next batch start after a manual pause (alias: promote)
  pause     TYPE/NAME   stop starting pod upgrades (pods mid-handover finish)
  resume    TYPE/NAME   undo pause
  abort     TYPE/NAME   send every pod back to the image most pods ran before the rollout, at once
  rollback  TYPE/NAME   a new rollout to the image before the current one (or --to IMAGE)
  release               create a HotRelease (not available yet)
  help [COMMAND]        this help, or a command's

${TYPES}

Examples:
  kubectl hotupgrade upgrade hd/web registry.example.com/web:v2
  kubectl hotupgrade status hd/web -w
  kubectl hotupgrade approve hd/web
  kubectl hotupgrade status hd/web --until-complete --timeout 10m && echo done

${CONNECTION}

${exitCodes()}

Run "kubectl hotupgrade help COMMAND" for a command's flags and details.`;

const COMMAND_HELP: Record<Command, string> = {
  status: `kubectl hotupgrade status TYPE/NAME [-w] [--until-complete] [--timeout D] [-o json]

Shows a HotDeployment's rollout: the spec's image and the one the pods ran before,
replicas (desired, current, ready, updated, upgrading), the current batch with a progress
bar, the Available/Progressing/Paused/Degraded conditions with their reasons and messages,
the pods by the version they serve, the pods mid-upgrade, failed handovers, and the next
command when the rollout waits for you.

Flags:
  -w, --watch            redraw on every change of the HotDeployment or its pods, until Ctrl-C
      --until-complete   watch until the outcome: exit 0 when the rollout completes
                         (Progressing/RolloutComplete for the latest spec), 1 when it is
                         Degraded (a failed handover, a passed progress deadline, a rollback)
      --timeout D        end the watch after D (90s, 5m, 1h30m); with --until-complete the
                         exit code is ${EXIT.timeout}, else 0. Default: no limit
  -o, --output json      a JSON summary instead of text; with -w one JSON object per line

Examples:
  kubectl hotupgrade status hd/web
  kubectl hotupgrade status hd/web -n shop -w
  kubectl hotupgrade status hd/web --until-complete --timeout 15m
  kubectl hotupgrade status hd/web -o json | jq .outcome`,

  upgrade: `kubectl hotupgrade upgrade hd/NAME IMAGE [-c CONTAINER] [--dry-run]

Sets the image of the hot container (spec.hotContainer), which starts a hot upgrade: each
pod starts IMAGE next to the old version and hands over in place, batch by batch as
spec.updateStrategy says. The change is a JSON patch guarded by a test of the image it
replaces, so an image someone else set meanwhile is never overwritten blindly; it also
records the old image (annotation hotupgrade.io/image-change) for rollback.

Flags:
  -c, --container C   another container of the template: its image change recreates the pods
      --dry-run       let the API server check the change without saving it

Examples:
  kubectl hotupgrade upgrade hd/web registry.example.com/web:v2
  kubectl hotupgrade upgrade hd/web registry.example.com/log-agent:3 -c log-agent`,

  approve: `kubectl hotupgrade approve TYPE/NAME [--batch N] [--dry-run]     (alias: promote)

A batch with pause: {manual: true} holds the rollout once it is done (batch state
AwaitingApproval). approve sets spec.updateStrategy.approved = {revision:
status.updateRevision, batch: N}: batches up to N may start. N defaults to the batch after
the one that waits. An approval names the rollout (the revision), so it never lets a later
rollout through. Exit ${EXIT.state} when the rollout is not awaiting approval; the message says what
it is doing instead.

Flags:
  --batch N    approve up to batch N; also ahead of time, while an earlier batch upgrades
  --dry-run    let the API server check the change without saving it

Examples:
  kubectl hotupgrade approve hd/web
  kubectl hotupgrade approve hd/web --batch 3     # no more manual stops in this rollout`,

  pause: `kubectl hotupgrade pause TYPE/NAME [--dry-run]

Sets spec.updateStrategy.paused: true. No pod starts an upgrade or is recreated; pods in
the middle of a handover finish. Paused time does not count against the progress deadline.
Pausing a paused HotDeployment changes nothing (exit 0).

Example:
  kubectl hotupgrade pause hd/web`,

  resume: `kubectl hotupgrade resume TYPE/NAME [--dry-run]

Sets spec.updateStrategy.paused: false: the rollout goes on where it stopped. A manual
pause of a batch still needs approve. Resuming a HotDeployment that is not paused changes
nothing (exit 0).

Example:
  kubectl hotupgrade resume hd/web`,

  abort: `kubectl hotupgrade abort TYPE/NAME [--dry-run]

Stops a hot rollout in progress and sends every pod back to status.currentImage (the image
most pods ran before the rollout): the hot container's image is set back, with the
controller's rollback record (annotation hotupgrade.io/rollback), so the pods go back at
once, maxUnavailable at a time, skipping batches and pauses; the HotDeployment then shows
Degraded/RolledBack until the next upgrade. Exit ${EXIT.state} when no hot rollout is in progress.
A paused HotDeployment stays paused: resume it for the pods to move.

Example:
  kubectl hotupgrade abort hd/web`,

  rollback: `kubectl hotupgrade rollback TYPE/NAME [--to IMAGE] [--dry-run]

Sets the hot container's image to an earlier one, as a new rollout through the batches and
pauses of spec.updateStrategy (abort goes back at once instead). The image is:
  1. --to IMAGE, when given;
  2. while a rollout runs: status.currentImage, the image most pods ran before it;
  3. after a completed rollout: the image before the last upgrade or rollback made with
     this plugin (annotation hotupgrade.io/image-change), while the spec still asks for the
     image that change set.
Otherwise exit ${EXIT.state}: name the image with --to. (The controller's hotupgrade.io/rollback
annotation is not a source: its "from" is the image that failed.)

Flags:
  --to IMAGE   the image to go back to
  --dry-run    let the API server check the change without saving it

Examples:
  kubectl hotupgrade rollback hd/web
  kubectl hotupgrade rollback hd/web --to registry.example.com/web:v1`,

  release: `kubectl hotupgrade release ...

Creates a HotRelease: one image rolled out over member clusters in steps. Not available
yet: HotRelease arrives with the hub controller (exit ${EXIT.notAvailable}).`,
};

export function helpText(topic?: Command): string {
  if (!topic) return OVERVIEW;
  const tail = topic === 'release' ? '' : `\n\n${TYPES}\n\n${CONNECTION}\n\n${exitCodes()}`;
  return `${COMMAND_HELP[topic]}${tail}`;
}

/** The line a usage error ends with. */
export function helpHint(topic?: Command): string {
  return topic ? `See: kubectl hotupgrade ${topic} --help` : 'See: kubectl hotupgrade --help';
}
