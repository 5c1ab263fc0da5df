import { describe, expect, it } from 'vitest';
import type { KubeError } from '../controller/kube/types.ts';
import { apiFailure } from './errors.ts';

const ctx = {
  what: 'hotdeployment/web',
  name: 'web',
  namespace: 'shop',
  server: 'https://k:6443',
  context: 'prod',
};
const err = (status: number, reason: string, message = 'm', details?: KubeError['details']): KubeError => ({
  ok: false,
  status,
  reason,
  message,
  ...(details ? { details } : {}),
});

describe('apiFailure', () => {
  it.each<[string, KubeError, number, string]>([
    [
      'the object is missing',
      err(404, 'NotFound', 'x', { name: 'web', kind: 'hotdeployments' }),
      3,
      'hotdeployment/web not found in namespace shop',
    ],
    [
      'the resource type is missing',
      err(404, 'NotFound', 'the server could not find the requested resource'),
      3,
      'does not serve hotdeployments.hotupgrade.io: install the CRDs',
    ],
    [
      'no connection',
      err(0, 'NetworkError', 'GET https://k:6443/...: ECONNREFUSED'),
      4,
      'cannot reach the API server of context "prod" (https://k:6443): GET https://k:6443/...: ECONNREFUSED',
    ],
    ['bad credentials', err(401, 'Unauthorized'), 4, 'refused the credentials of context "prod"'],
    ['RBAC', err(403, 'Forbidden', 'user "bob" cannot patch'), 4, 'forbidden: user "bob" cannot patch'],
    [
      'an invalid change',
      err(422, 'Invalid', 'spec.x: bad'),
      1,
      'the API server rejected the change to hotdeployment/web: spec.x: bad',
    ],
    ['endless conflicts', err(409, 'Conflict'), 1, 'kept changing while it was being written'],
    [
      'an object that exists already',
      err(409, 'AlreadyExists', 'hotreleases "web" already exists'),
      1,
      'hotdeployment/web already exists in namespace shop: choose another name',
    ],
    [
      'a namespace that does not exist',
      err(404, 'NotFound', 'namespaces "shop" not found', { name: 'shop', kind: 'namespaces' }),
      3,
      'namespace shop not found',
    ],
    [
      'a server error',
      err(500, 'InternalError', 'etcd'),
      4,
      'the API server answered 500 InternalError: etcd',
    ],
  ])('%s', (_t, e, code, words) => {
    const f = apiFailure(e, ctx);
    expect(f.code).toBe(code);
    expect(f.message).toContain(words);
  });
});

describe('apiFailure for a HotRelease', () => {
  it('names the missing resource type, and how to see an existing release', () => {
    const hr = {
      ...ctx,
      what: 'hotrelease/r1',
      name: 'r1',
      plural: 'hotreleases',
      show: 'kubectl hotupgrade status hr/r1 -n shop',
    };
    expect(
      apiFailure(err(404, 'NotFound', 'the server could not find the requested resource'), hr).message,
    ).toContain('does not serve hotreleases.hotupgrade.io: install the CRDs');
    expect(apiFailure(err(409, 'AlreadyExists'), hr).message).toBe(
      'hotrelease/r1 already exists in namespace shop: choose another name, or see it with: kubectl hotupgrade status hr/r1 -n shop',
    );
  });
});
