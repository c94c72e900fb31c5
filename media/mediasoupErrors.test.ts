import { NotFoundError, UnsupportedError, WorkerClosedError } from 'mediasoup/errors';
import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors.ts';
import { onLiveObject, toAppError, withClientParams } from './mediasoupErrors.ts';

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : 'unmapped');

describe('mediasoup errors mapped by class', () => {
  it('maps a gone entity or worker to not_found, whoever is to blame', () => {
    for (const blame of ['client', 'server'] as const) {
      expect(codeOf(toAppError(new NotFoundError('Producer not found'), blame))).toBe('not_found');
      expect(codeOf(toAppError(new WorkerClosedError('Channel closed'), blame))).toBe('not_found');
    }
  });

  it('blames the client for bad parameters only where they came from the client', () => {
    expect(codeOf(toAppError(new TypeError('missing codec.mimeType'), 'client'))).toBe('bad_request');
    expect(codeOf(toAppError(new UnsupportedError('unsupported codec'), 'client'))).toBe('bad_request');
    expect(codeOf(toAppError(new TypeError('x is undefined'), 'server'))).toBe('unmapped');
  });

  it('leaves the worker\'s plain Error alone, whatever its message says', () => {
    const error = new Error('invalid IP');
    expect(toAppError(error, 'client')).toBe(error);
  });

  it('keeps an AppError as it is', () => {
    const error = new AppError('limit_reached', 'too many');
    expect(toAppError(error, 'client')).toBe(error);
  });

  it('calls anything that fails on an object closed meanwhile not_found', async () => {
    const object = { id: 'c1', closed: false };
    const failing = withClientParams(async () => {
      throw new TypeError('bad dtlsParameters');
    });
    await expect(failing).rejects.toMatchObject({ code: 'bad_request' });
    await expect(
      onLiveObject(object, async () => {
        object.closed = true;
        throw new Error('request aborted');
      }),
    ).rejects.toMatchObject({ code: 'not_found', message: 'c1 closed meanwhile' });
  });
});
