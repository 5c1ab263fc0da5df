import { describe, expect, it } from 'vitest';
import { errorFromResponse, networkError } from './apiErrors.ts';

const status = (code: number, reason: string, message: string): string =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('errorFromResponse', () => {
  it.each([
    {
      title: 'a Status body gives its reason and message',
      code: 409,
      body: status(409, 'Conflict', 'the object has been modified'),
      want: { status: 409, reason: 'Conflict', message: 'the object has been modified' },
    },
    {
      title: 'a 404 without a Status body is NotFound',
      code: 404,
      body: '404 page not found',
      want: { status: 404, reason: 'NotFound', message: '404 page not found' },
    },
    {
      title: 'an empty 503 from a proxy is ServiceUnavailable',
      code: 503,
      body: '',
      want: { status: 503, reason: 'ServiceUnavailable', message: 'HTTP 503' },
    },
    {
      title: 'an unknown 5xx is an InternalError',
      code: 599,
      body: 'x',
      want: { status: 599, reason: 'InternalError', message: 'x' },
    },
  ])('$title', ({ code, body, want }) => {
    expect(errorFromResponse(code, body)).toEqual({ ok: false, ...want });
  });
});

describe('networkError', () => {
  it('names the errno of a refused connection', () => {
    const err = Object.assign(new Error('fetch failed'), {
      cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' },
    });
    const e = networkError('GET https://127.0.0.1:1/api', err, false);
    expect(e).toMatchObject({ status: 0, reason: 'NetworkError' });
    expect(e.message).toContain('ECONNREFUSED');
  });

  it('says Aborted when the caller aborted', () => {
    expect(networkError('GET /x', new Error('x'), true)).toMatchObject({ status: 0, reason: 'Aborted' });
  });
});
