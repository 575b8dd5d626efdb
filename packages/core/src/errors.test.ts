import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import * as errors from './errors.js';
import * as core from './index.js';

type CoreCode = keyof typeof errors.CORE_ERROR_CODES;

/** Exported classes of the package entry that carry a static code, by code. */
function exportedClassesByCode(): Map<string, errors.CodedErrorClass> {
  const found = new Map<string, errors.CodedErrorClass>();
  for (const value of Object.values(core)) {
    if (typeof value === 'function' && typeof (value as { code?: unknown }).code === 'string') {
      found.set((value as errors.CodedErrorClass).code, value as errors.CodedErrorClass);
    }
  }
  return found;
}

describe('every core error code', () => {
  const classes = exportedClassesByCode();
  const codes = Object.keys(errors.CORE_ERROR_CODES) as CoreCode[];

  it.each(codes)('%s is exported as a class with its status', (code) => {
    const status = errors.CORE_ERROR_CODES[code];
    const cls = classes.get(code);
    expect(cls, `no exported class has the code ${code}`).toBeDefined();
    expect(cls!.status).toBe(status);
    const error = new cls!('something went wrong', { details: { a: 1 } });
    expect(error).toBeInstanceOf(errors.BlueprintError);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.name).toBe(cls!.name);
    expect(errors.isBlueprintError(error)).toBe(true);
  });

  it.each(codes)('%s revives from the wire into the same class and status', (code) => {
    const revived = errors.reviveError({ code, message: 'm', details: { d: 1 } });
    expect(revived.code).toBe(code);
    expect(revived.status).toBe(errors.CORE_ERROR_CODES[code]);
    expect(revived.message).toBe('m');
    expect(revived.details).toEqual({ d: 1 });
    expect(revived).toBeInstanceOf(classes.get(code)!);
  });

  it('documents every code with its HTTP status in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const code of codes) {
      expect(readme).toMatch(
        new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${errors.CORE_ERROR_CODES[code]}\\s*\\|`),
      );
    }
  });
});

describe('BlueprintError', () => {
  it('carries code, message, details, status and cause; the wire form drops the cause', () => {
    const cause = new Error('socket closed');
    const error = new errors.BlueprintError('PAYMENT_DECLINED', 'card declined for order 42', {
      details: { orderId: 42 },
      cause,
      status: 402,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('BlueprintError');
    expect(error.cause).toBe(cause);
    expect(error.status).toBe(402);
    expect(error.toJSON()).toEqual({
      code: 'PAYMENT_DECLINED',
      message: 'card declined for order 42',
      details: { orderId: 42 },
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual(error.toJSON());
    expect(new errors.BlueprintError('X', 'y').status).toBe(500);
  });
});

describe('defineError', () => {
  it('makes a ServiceError class with a fixed code, status and a name derived from the code', () => {
    const OutOfStockError = errors.defineError('OUT_OF_STOCK', 409);
    const error = new OutOfStockError('product p1 has 3 left, 5 requested', { details: { available: 3 } });
    expect(OutOfStockError.name).toBe('OutOfStockError');
    expect(OutOfStockError.code).toBe('OUT_OF_STOCK');
    expect(OutOfStockError.status).toBe(409);
    expect(error).toBeInstanceOf(errors.ServiceError);
    expect(error).toBeInstanceOf(OutOfStockError);
    expect(error.name).toBe('OutOfStockError');
    expect(error.code).toBe('OUT_OF_STOCK');
    expect(error.status).toBe(409);
    expect(error.details).toEqual({ available: 3 });
    expect(errors.defineError('TEAPOT').status).toBe(400);
    expect(errors.defineError('TEAPOT', 418, 'Teapot').name).toBe('Teapot');
  });

  it('revives a class listed by the contract before the built-in ones', () => {
    const Special = errors.defineError('NOT_FOUND', 404, 'SpecialNotFound');
    expect(errors.reviveError({ code: 'NOT_FOUND', message: 'm' }, [Special])).toBeInstanceOf(Special);
    expect(errors.reviveError({ code: 'NOT_FOUND', message: 'm' })).toBeInstanceOf(errors.NotFoundError);
  });

  it('revives an unknown code as a ServiceError with the status it came with', () => {
    const revived = errors.reviveError({ code: 'OUT_OF_STOCK', message: 'none left' }, [], 409);
    expect(revived).toBeInstanceOf(errors.ServiceError);
    expect(revived.code).toBe('OUT_OF_STOCK');
    expect(revived.status).toBe(409);
    expect(errors.reviveError({ code: 'WHO_KNOWS', message: 'x' }).status).toBe(500);
  });
});

describe('type guards compare codes, not classes', () => {
  it('recognise errors made by another copy of the package', async () => {
    vi.resetModules();
    const copy = (await import('./errors.js')) as typeof errors;
    expect(copy.NotFoundError).not.toBe(errors.NotFoundError);
    const foreign = new copy.NotFoundError('no product p9', { details: { id: 'p9' } });
    expect(foreign).not.toBeInstanceOf(errors.NotFoundError);
    expect(errors.isBlueprintError(foreign)).toBe(true);
    expect(errors.isNotFoundError(foreign)).toBe(true);
    expect(errors.hasErrorCode(foreign, 'NOT_FOUND')).toBe(true);
    expect(errors.serializeError(foreign)).toEqual({
      status: 404,
      body: { code: 'NOT_FOUND', message: 'no product p9', details: { id: 'p9' } },
    });
    expect(copy.isNotFoundError(new errors.NotFoundError('x'))).toBe(true);
  });

  it('tell the codes apart', () => {
    const timeout = new errors.TimeoutError('slow');
    expect(errors.isTimeoutError(timeout)).toBe(true);
    expect(errors.isNotFoundError(timeout)).toBe(false);
    expect(errors.isValidationError(new errors.ValidationError('bad'))).toBe(true);
    expect(errors.isRemoteUnavailableError(new errors.RemoteUnavailableError('down'))).toBe(true);
  });

  it('refuse errors that merely carry a string code, and non-errors', () => {
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    expect(errors.isBlueprintError(enoent)).toBe(false);
    expect(errors.hasErrorCode(enoent, 'ENOENT')).toBe(false);
    expect(errors.isNotFoundError({ code: 'NOT_FOUND', message: 'plain object' })).toBe(false);
    expect(errors.isBlueprintError(null)).toBe(false);
    expect(errors.isBlueprintError('NOT_FOUND')).toBe(false);
  });
});

describe('serializeError', () => {
  it('keeps code, message and details of a coded error, never its cause or stack', () => {
    const error = new errors.NotFoundError('no order 7', { details: { id: 7 }, cause: new Error('db') });
    const { status, body } = errors.serializeError(error);
    expect(status).toBe(404);
    expect(body).toEqual({ code: 'NOT_FOUND', message: 'no order 7', details: { id: 7 } });
  });

  it('turns anything else into INTERNAL with its message', () => {
    expect(errors.serializeError(new Error('boom'))).toEqual({
      status: 500,
      body: { code: 'INTERNAL', message: 'boom' },
    });
    expect(errors.serializeError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toEqual({
      status: 500,
      body: { code: 'INTERNAL', message: 'refused' },
    });
    expect(errors.serializeError('text')).toEqual({
      status: 500,
      body: { code: 'INTERNAL', message: 'text' },
    });
    expect(new errors.InternalError('x').status).toBe(500);
  });
});
