// What to tell the user, and which exit code to use, when the API server answers an error
// (or does not answer). Pure.
import { GROUP, PLURAL } from '../controller/constants.ts';
import type { KubeError } from '../controller/kube/types.ts';
import { EXIT, type ExitCode } from './constants.ts';

export interface Failure {
  code: ExitCode;
  message: string;
}

export interface FailureContext {
  /** `hotdeployment/web`. */
  what: string;
  /** The object's name (a 404 that names another object, or none, is about the resource type). */
  name: string;
  namespace: string;
  /** The API server's URL. */
  server: string;
  /** The kubeconfig context in use. */
  context: string;
  /** The resource, e.g. hotreleases (default: hotdeployments). */
  plural?: string;
  /** The command that shows the object, for the hint of AlreadyExists. */
  show?: string;
}

export function apiFailure(err: KubeError, ctx: FailureContext): Failure {
  if (err.reason === 'NotFound' || err.status === 404) {
    if (err.details?.name === ctx.name) {
      return { code: EXIT.notFound, message: `${ctx.what} not found in namespace ${ctx.namespace}` };
    }
    if (err.details?.kind === 'namespaces') {
      return { code: EXIT.notFound, message: `namespace ${err.details.name ?? ctx.namespace} not found` };
    }
    return {
      code: EXIT.notFound,
      message: `the API server at ${ctx.server} does not serve ${ctx.plural ?? PLURAL}.${GROUP}: install the CRDs (helm install hotupgrade charts/hotupgrade, or kubectl apply -f charts/hotupgrade/crds/)`,
    };
  }
  if (err.reason === 'AlreadyExists') {
    return {
      code: EXIT.state,
      message: `${ctx.what} already exists in namespace ${ctx.namespace}: choose another name${ctx.show ? `, or see it with: ${ctx.show}` : ''}`,
    };
  }
  if (err.status === 0) {
    return {
      code: EXIT.api,
      message: `cannot reach the API server of context "${ctx.context}" (${ctx.server}): ${err.message}; check --kubeconfig and --context`,
    };
  }
  if (err.status === 401) {
    return {
      code: EXIT.api,
      message: `the API server at ${ctx.server} refused the credentials of context "${ctx.context}" (401 Unauthorized): log in again or check the kubeconfig's user`,
    };
  }
  if (err.status === 403) return { code: EXIT.api, message: `forbidden: ${err.message}` };
  if (err.status === 422 || err.reason === 'Invalid') {
    return { code: EXIT.state, message: `the API server rejected the change to ${ctx.what}: ${err.message}` };
  }
  if (err.status === 409) {
    return {
      code: EXIT.state,
      message: `${ctx.what} kept changing while it was being written; run the command again`,
    };
  }
  return {
    code: EXIT.api,
    message: `${ctx.what}: the API server answered ${err.status} ${err.reason}: ${err.message}`,
  };
}
