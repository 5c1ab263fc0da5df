// The help of kubectl-hotupgrade: what each command does to which field, for a
// HotDeployment and for a HotRelease, with examples, the state each needs, and the exit
// codes. docs/plugin.md says the same at more length. Pure.
import type { Command } from './args.ts';
import { EXIT, EXIT_TABLE } from './constants.ts';

const CONNECTION = `Connection flags (as kubectl's):
      --kubeconfig PATH   kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
      --context NAME      kubeconfig context (default: the current context)
  -n, --namespace NS      namespace (default: the context's, else "default")
  -h, --help              this help`;

const TYPES = `TYPE/NAME is hotdeployment/NAME (also hd/NAME): a rollout in one cluster; or
hotrelease/NAME (also hr/NAME, hotrel/NAME): a release over member clusters, on the hub.`;

export function exitCodes(): string {
  return `Exit codes:\n${EXIT_TABLE.map(([code, what]) => `  ${String(code).padStart(3)}  ${what}`).join('\n')}`;
}

const OVERVIEW = `kubectl hotupgrade: watch and steer hot upgrades (HotDeployments) and releases over
member clusters (HotReleases), hotupgrade.io/v1alpha1

Usage: kubectl hotupgrade COMMAND TYPE/NAME [flags]

Commands:
  status    TYPE/NAME   show a rollout or a release: images, progress bars, steps, conditions
                        (-w: live view; --until-complete: wait for the outcome)
  upgrade   hd/NAME IMAGE
                        set a new image: a hot upgrade of the hot container, in place
  approve   TYPE/NAME   let the next batch or step start after a manual pause (alias: promote)
  pause     TYPE/NAME   start nothing new (pods mid-handover finish)
  resume    TYPE/NAME   undo pause
  abort     TYPE/NAME   hd: send every pod back at once; hr: stop the release for good
  rollback  TYPE/NAME   hd: a new rollout to the image before; hr: every cluster back at once
  release   NAME ...    create a HotRelease: an image rolled out over member clusters in steps
  help [COMMAND]        this help, or a command's

${TYPES}

Examples:
  kubectl hotupgrade upgrade hd/web registry.example.com/web:v2
  kubectl hotupgrade status hd/web -w
  kubectl hotupgrade approve hd/web
  kubectl hotupgrade status hd/web --until-complete --timeout 10m && echo done
  kubectl hotupgrade release web-v2 --target web --image registry.example.com/web:v2 \\
      --clusters eu,us --step upgrade=1@eu --step pause --step upgrade=100%
  kubectl hotupgrade status hr/web-v2 -w
  kubectl hotupgrade approve hr/web-v2

${CONNECTION}

${exitCodes()}

Run "kubectl hotupgrade help COMMAND" for a command's flags and details.`;

const STEPS_HELP = `Steps (--step SPEC, one per step, in order; at least one, there is no default plan):
  upgrade=N              cumulative: N pods of the target at IMAGE in every cluster
  upgrade=P%             P percent of the target's replicas (1% to 100%, rounded up)
  upgrade=N@a,b          the same, in clusters a and b only (also upgrade=25%@a,b)
  pause=SECONDS          a timed pause: pause=60, or a duration: pause=90s, pause=5m (at most 24h)
  pause                  a manual pause: the next step waits for kubectl hotupgrade approve
  gate=QUERY OP VALUE[; OPTION=VALUE]...
                         a Prometheus gate: QUERY must return one number, and passes when
                         "value OP VALUE" holds; OP is <, <=, > or >=. The comparison read is
                         the one right before the number that ends the part before the first
                         ";", so the query may hold braces, commas and comparisons of its own.
                         $cluster in QUERY stands for each member cluster's name.
                         Options, each after a ";":
                           interval=30     seconds between evaluations (or 1m; default 60)
                           samples=3       passed evaluations in a row that pass (default 1)
                           failures=2      failed evaluations that fail the release (default 1)
                           clusters=a,b    the clusters to evaluate (default: every one)
                           prometheus=URL  the Prometheus to ask (default: the cluster's,
                                           else --prometheus)
  Quote gate steps in single quotes: the shell must not read <, >, ;, $ or braces.
  One upgrade step must take every cluster to 100% (upgrade=100%), and counts and percents
  must not decrease from step to step: the API server checks the plan and says what is wrong.`;

const COMMAND_HELP: Record<Command, string> = {
  status: `kubectl hotupgrade status TYPE/NAME [-w] [--until-complete] [--timeout D] [-o json]

hd/NAME: a HotDeployment's rollout: the spec's image and the one the pods ran before,
replicas (desired, current, ready, updated, upgrading), the current batch with a progress
bar, the Available/Progressing/Paused/Degraded conditions with their reasons and messages,
the pods by the version they serve, the pods mid-upgrade, failed handovers, and the next
command when the rollout waits for you.

hr/NAME: a HotRelease: its image, target and clusters, the phase, the current step
("3/7 gate ..."), every step (✓ done, ▶ current, ✗ where it stopped, · to come), each
cluster with a progress bar (pods at the new image of the target's replicas, the step's
target, ready pods, the version asked for, reachable or what is wrong), the gates' last
results with value and threshold, the conditions that are not fine, and the next command.

Flags:
  -w, --watch            redraw on every change, until Ctrl-C
      --until-complete   watch until the outcome. hd: exit 0 when the rollout completes
                         (Progressing/RolloutComplete for the latest spec), 1 when it is
                         Degraded (a failed handover, a passed progress deadline, a rollback).
                         hr: exit 0 at phase Succeeded, 1 at Failed, RolledBack or Aborted
                         (once no rollback runs)
      --timeout D        end the watch after D (90s, 5m, 1h30m); with --until-complete the
                         exit code is ${EXIT.timeout}, else 0. Default: no limit
  -o, --output json      a JSON summary instead of text; with -w one JSON object per line

Examples:
  kubectl hotupgrade status hd/web
  kubectl hotupgrade status hd/web -n shop -w
  kubectl hotupgrade status hd/web --until-complete --timeout 15m
  kubectl hotupgrade status hd/web -o json | jq .outcome
  kubectl hotupgrade status hr/web-v2 -n apps -w
  kubectl hotupgrade status hr/web-v2 --until-complete --timeout 2h
  kubectl hotupgrade status hr/web-v2 -o json | jq '{phase, currentStep, next}'`,

  upgrade: `kubectl hotupgrade upgrade hd/NAME IMAGE [-c CONTAINER] [--dry-run]

Sets the image of the hot container (spec.hotContainer), which starts a hot upgrade: each
pod starts IMAGE next to the old version and hands over in place, batch by batch as
spec.updateStrategy says. The change is a JSON patch guarded by a test of the image it
replaces, so an image someone else set meanwhile is never overwritten blindly; it also
records the old image (annotation hotupgrade.io/image-change) for rollback. (A HotRelease's
image is fixed: to release another image over the clusters, create another with release.)

Flags:
  -c, --container C   another container of the template: its image change recreates the pods
      --dry-run       let the API server check the change without saving it

Examples:
  kubectl hotupgrade upgrade hd/web registry.example.com/web:v2
  kubectl hotupgrade upgrade hd/web registry.example.com/log-agent:3 -c log-agent`,

  approve: `kubectl hotupgrade approve TYPE/NAME [--batch N | --step N] [--dry-run]     (alias: promote)

hd/NAME: a batch with pause: {manual: true} holds the rollout once it is done (batch state
AwaitingApproval). approve sets spec.updateStrategy.approved = {revision:
status.updateRevision, batch: N}: batches up to N may start. N defaults to the batch after
the one that waits. An approval names the rollout (the revision), so it never lets a later
rollout through.

hr/NAME: a manual pause step holds the release (phase Paused, condition Paused with reason
AwaitingApproval). approve sets spec.approved.step = N: steps up to N may start. N
defaults to status.currentStep + 1, the step after the pause. The write carries the
resourceVersion it read, so it approves the step it saw.

Exit ${EXIT.state} when not awaiting approval; the message says what the rollout or release is doing
instead. With --batch N or --step N, approve ahead of time, while an earlier batch or step
runs.

Flags:
  --batch N    hd: approve up to batch N
  --step N     hr: approve up to step N (1-based, as status.currentStep)
  --dry-run    let the API server check the change without saving it

Examples:
  kubectl hotupgrade approve hd/web
  kubectl hotupgrade approve hd/web --batch 3     # no more manual stops in this rollout
  kubectl hotupgrade approve hr/web-v2
  kubectl hotupgrade approve hr/web-v2 --step 7   # every manual pause up to step 7`,

  pause: `kubectl hotupgrade pause TYPE/NAME [--dry-run]

hd/NAME: sets spec.updateStrategy.paused: true. No pod starts an upgrade or is recreated;
pods in the middle of a handover finish. Paused time does not count against the progress
deadline.

hr/NAME: sets spec.paused: true (phase Paused, Paused/PausedBySpec). No step starts, no
member gets a new write, no gate is evaluated; upgrades in flight in the members finish.
Exit ${EXIT.state} on a release in a final phase (Succeeded, Failed, RolledBack, Aborted).

Pausing a paused object changes nothing (exit 0).

Examples:
  kubectl hotupgrade pause hd/web
  kubectl hotupgrade pause hr/web-v2`,

  resume: `kubectl hotupgrade resume TYPE/NAME [--dry-run]

hd/NAME: sets spec.updateStrategy.paused: false: the rollout goes on where it stopped. A
manual pause of a batch still needs approve.

hr/NAME: sets spec.paused: false: the release goes on where it stopped. A manual pause
step still needs approve (a note says so).

Resuming an object that is not paused changes nothing (exit 0).

Examples:
  kubectl hotupgrade resume hd/web
  kubectl hotupgrade resume hr/web-v2`,

  abort: `kubectl hotupgrade abort TYPE/NAME [--dry-run]

hd/NAME: stops a hot rollout in progress and sends every pod back to status.currentImage
(the image most pods ran before the rollout): the hot container's image is set back, with
the controller's rollback record (annotation hotupgrade.io/rollback), so the pods go back
at once, maxUnavailable at a time, skipping batches and pauses; the HotDeployment then shows
Degraded/RolledBack until the next upgrade. Exit ${EXIT.state} when no hot rollout is in progress. A
paused HotDeployment stays paused: resume it for the pods to move.

hr/NAME: sets spec.abort: true (cannot be undone): the release stops for good (phase
Aborted); nothing more is upgraded and every pod keeps the version it runs (rollback can
still send them back). Exit ${EXIT.state} on a final phase (Succeeded, Failed, RolledBack,
Aborted) or while a rollback runs. The patch tests the phase it was decided on.

Examples:
  kubectl hotupgrade abort hd/web
  kubectl hotupgrade abort hr/web-v2`,

  rollback: `kubectl hotupgrade rollback TYPE/NAME [--to IMAGE] [--dry-run]

hd/NAME: sets the hot container's image to an earlier one, as a new rollout through the
batches and pauses of spec.updateStrategy (abort goes back at once instead). The image is:
  1. --to IMAGE, when given;
  2. while a rollout runs: status.currentImage, the image most pods ran before it;
  3. after a completed rollout: the image before the last upgrade or rollback made with
     this plugin (annotation hotupgrade.io/image-change), while the spec still asks for the
     image that change set.
Otherwise exit ${EXIT.state}: name the image with --to. (The controller's hotupgrade.io/rollback
annotation is not a source: its "from" is the image that failed.)

hr/NAME: sets spec.rollback: true (cannot be undone): every cluster the release touched
goes back to its previous image (status.clusters[].previousImage), at once, one cluster
after the other, in reverse order; then phase RolledBack. Allowed while the release runs
or is paused, and after Succeeded, Failed or Aborted. Exit ${EXIT.state} when it is RolledBack, when a
rollback runs already, or when it is Pending and has changed no cluster (abort it instead).
The patch tests the phase it was decided on. --to does not apply.

Flags:
  --to IMAGE   hd: the image to go back to
  --dry-run    let the API server check the change without saving it

Examples:
  kubectl hotupgrade rollback hd/web
  kubectl hotupgrade rollback hd/web --to registry.example.com/web:v1
  kubectl hotupgrade rollback hr/web-v2`,

  release: `kubectl hotupgrade release NAME --target HD --image IMAGE (--clusters a,b | --selector k=v,... | --all-clusters)
                           --step SPEC [--step SPEC]... [--target-namespace NS] [--auto-rollback]
                           [--progress-deadline SECONDS] [--prometheus URL] [--dry-run] [-o json|yaml]
kubectl hotupgrade release -f FILE [--dry-run] [-o json|yaml]

Creates a HotRelease on the hub (in -n NS): IMAGE rolled out to the HotDeployment HD (in
namespace --target-namespace, default NS) in every member cluster, step by step. The hub
controller runs it; follow it with status hr/NAME -w, and steer it with approve, pause,
resume, abort and rollback. A HotRelease's image and target never change: another image is
another HotRelease.

-f FILE reads the whole HotRelease from a YAML or JSON file (- for stdin) instead of the
flags; its metadata.namespace, if any, must agree with -n. Fields the CRD does not know are
errors.

${STEPS_HELP}

Flags:
      --target HD              the HotDeployment to upgrade, the same name in every cluster
      --target-namespace NS    its namespace in every cluster (default: the release's)
      --image IMAGE            the new hot image
      --clusters a,b           the member clusters by name (MemberClusters on the hub)
  -l, --selector k=v,...       or by label: k=v, k!=v, k (has it), !k (has it not)
      --all-clusters           or every member cluster
      --step SPEC              a step of the plan (above), repeated in order
      --auto-rollback          on a failed gate or a passed progress deadline, roll every
                               cluster back by itself (default: stop, phase Failed)
      --progress-deadline S    an upgrade step without progress for S seconds (or 10m)
                               fails the release (default 600)
      --prometheus URL         the Prometheus of gates, for clusters that name none
      --dry-run                let the API server check the release without saving it
  -f, --file FILE              the HotRelease from a file (- for stdin), instead of the flags
  -o, --output json|yaml       print the created HotRelease (with --dry-run: a file for -f)

The plugin checks names, the image, and the syntax of each step; the API server checks the
rest (the plan as a whole, cluster names in steps) and its message is shown as it is, with
exit ${EXIT.usage}. A release of that name exists already: exit ${EXIT.state}. A named MemberCluster that
does not exist (or a selector matching none) is a note: the release waits until it does.

Examples:
  # A canary pod in eu, a gate on its error ratio, a manual approval, then everything:
  kubectl hotupgrade release web-v2 -n apps --target web --image registry.example.com/web:v2 \\
      --clusters eu,us --auto-rollback \\
      --step upgrade=1@eu \\
      --step 'gate=sum(rate(http_requests_total{cluster="$cluster",code=~"5.."}[5m])) / sum(rate(http_requests_total{cluster="$cluster"}[5m])) < 0.01; interval=30; samples=4; clusters=eu' \\
      --step pause \\
      --step upgrade=50% --step pause=10m --step upgrade=100%
  # Every cluster labelled env=prod, 25% at a time:
  kubectl hotupgrade release web-v2 --target web --image registry.example.com/web:v2 \\
      --selector env=prod --step upgrade=25% --step pause=5m --step upgrade=50% --step upgrade=100%
  # Write a file to review, then create it:
  kubectl hotupgrade release web-v2 ... --dry-run -o yaml > web-v2.yaml
  kubectl hotupgrade release -f web-v2.yaml`,
};

export function helpText(topic?: Command): string {
  if (!topic) return OVERVIEW;
  const types = topic === 'release' ? '' : `\n\n${TYPES}`;
  return `${COMMAND_HELP[topic]}${types}\n\n${CONNECTION}\n\n${exitCodes()}`;
}

/** The line a usage error ends with. */
export function helpHint(topic?: Command): string {
  return topic ? `See: kubectl hotupgrade ${topic} --help` : 'See: kubectl hotupgrade --help';
}
