import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineService } from '../contract.js';
import { isBlueprintError, ValidationError } from '../errors.js';
import { describeContract } from './compatibility.js';
import { type ContractSkew, ContractVersionGuard, type DescribeRemote } from './version-guard.js';

const v1 = defineService(
  'products',
  { get: { input: z.object({ id: z.string() }), output: z.object({ id: z.string() }) } },
  { version: 1 },
);
const v2 = defineService(
  'products',
  { get: { input: z.object({ id: z.string(), tenant: z.string() }), output: z.object({ id: z.string() }) } },
  { version: 2 },
);
const own = describeContract(v1);
const theirs = describeContract(v2);
const inputRefused = () =>
  new ValidationError('invalid input for products.get: tenant: required', { details: { where: 'input' } });

/** A guard over `v1` whose replica answers `answer` (or throws it) when asked for a description. */
function replica(answer: () => unknown, now = () => 0) {
  const skews: ContractSkew[] = [];
  const asked: (string | undefined)[] = [];
  const describe: DescribeRemote = async (_service, credential) => {
    asked.push(credential);
    return answer();
  };
  const guard = new ContractVersionGuard({
    contracts: [v1],
    onSkew: (skew) => skews.push(skew),
    credentialFor: (process) => `credential-for-${process}`,
    now,
  });
  return { contracts: guard.forReplica('catalogue', 'http://10.0.0.1:4001', describe), skews, asked };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}

describe('the contract version guard', () => {
  it('sees a difference only in an answer that names another fingerprint', () => {
    const { contracts } = replica(() => theirs);
    expect(contracts.differs('products', own.fingerprint)).toBe(false);
    expect(contracts.differs('products', undefined)).toBe(false);
    expect(contracts.differs('products', theirs.fingerprint)).toBe(true);
  });

  it('fetches a description once per replica and fingerprint, with a credential for its process, and tells it once', async () => {
    const { contracts, skews, asked } = replica(() => JSON.parse(JSON.stringify(theirs)));
    for (let i = 0; i < 3; i++) {
      const error = await failure(contracts.failure('products', 'get', theirs.fingerprint, inputRefused()));
      expect(isBlueprintError(error) && error.code).toBe('CONTRACT_MISMATCH');
    }
    expect(asked).toEqual(['credential-for-catalogue']);
    expect(skews).toEqual([
      {
        service: 'products',
        process: 'catalogue',
        url: 'http://10.0.0.1:4001',
        caller: { version: 1, fingerprint: own.fingerprint },
        server: { version: 2, fingerprint: theirs.fingerprint },
        differences: ['get input.tenant: the server requires it, the caller does not send it'],
      },
    ]);
  });

  it('keeps the error when the description is malformed, names another service, or cannot be fetched; asks again after a pause', async () => {
    let clock = 0;
    const answers: unknown[] = [
      { ...theirs, fingerprint: 'not hex' },
      { ...theirs, name: 'orders' },
      { ...theirs, methods: { get: { input: 'x', output: {} } } },
    ];
    const { contracts, skews, asked } = replica(
      () => {
        const next = answers.shift();
        if (next === undefined) throw new Error('connection refused');
        return next;
      },
      () => clock,
    );
    for (let attempt = 0; attempt < 4; attempt++) {
      const original = inputRefused();
      expect(await failure(contracts.failure('products', 'get', theirs.fingerprint, original))).toBe(
        original,
      );
      // Within the pause, the failed fetch is not repeated.
      expect(await failure(contracts.failure('products', 'get', theirs.fingerprint, original))).toBe(
        original,
      );
      clock += 5_000;
    }
    expect(asked).toHaveLength(4);
    expect(skews.map((skew) => skew.server)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('names schemas it cannot compare as the difference, rather than failing itself', async () => {
    const hostile = {
      ...theirs,
      methods: { get: { input: { type: 'object', required: 5, properties: 'x' }, output: {} } },
    };
    const { contracts, skews } = replica(() => hostile);
    const error = await failure(contracts.failure('products', 'get', theirs.fingerprint, inputRefused()));
    expect(isBlueprintError(error) && error.details).toMatchObject({
      differences: ["get: the server's schemas cannot be compared"],
    });
    expect(skews[0]!.differences).toEqual(["the contract: the server's schemas cannot be compared"]);
  });

  it('remembers each version one address answers for, as behind a load balancer mixing replicas', async () => {
    const v3 = defineService(
      'products',
      {
        get: {
          input: z.object({ id: z.string(), region: z.string() }),
          output: z.object({ id: z.string() }),
        },
      },
      { version: 3 },
    );
    const third = describeContract(v3);
    const byFingerprint = new Map([
      [theirs.fingerprint, theirs],
      [third.fingerprint, third],
    ]);
    let next = theirs.fingerprint;
    const { contracts, skews, asked } = replica(() => byFingerprint.get(next));
    for (let i = 0; i < 6; i++) {
      next = i % 2 === 0 ? theirs.fingerprint : third.fingerprint;
      const error = await failure(contracts.failure('products', 'get', next, inputRefused()));
      expect(
        isBlueprintError(error) && (error.details as { server: { version: number } }).server.version,
      ).toBe(i % 2 === 0 ? 2 : 3);
    }
    expect(asked).toHaveLength(2);
    expect(skews.map((skew) => skew.server?.version)).toEqual([2, 3]);
  });

  it('ignores a malformed fingerprint and errors that a version difference does not cause', async () => {
    const { contracts, asked } = replica(() => theirs);
    const original = inputRefused();
    expect(await failure(contracts.failure('products', 'get', 'x'.repeat(4000), original))).toBe(original);
    expect(await failure(contracts.failure('products', 'get', ['a', 'b'], original))).toBe(original);
    expect(asked).toEqual([]);
    const unrelated = new Error('boom');
    expect(await failure(contracts.failure('products', 'get', theirs.fingerprint, unrelated))).toBe(
      unrelated,
    );
  });

  it('returns a result that fits the caller, and turns one that does not into CONTRACT_MISMATCH only when the versions explain it', async () => {
    const changedOutput = defineService(
      'products',
      { get: { input: z.object({ id: z.string() }), output: z.object({ id: z.number() }) } },
      { version: 3 },
    );
    const { contracts } = replica(() => describeContract(changedOutput));
    const fingerprint = describeContract(changedOutput).fingerprint;
    expect(await contracts.result('products', 'get', fingerprint, { id: 'p1' })).toEqual({ id: 'p1' });
    const error = await failure(contracts.result('products', 'get', fingerprint, { id: 7 }));
    expect(isBlueprintError(error) && error.details).toMatchObject({
      differences: ['get output.id: the server returns number, the other side takes string'],
    });

    const { contracts: compatible } = replica(() => theirs);
    // v2 changes only the input: an output that does not fit is the server's own fault, passed on as it is.
    expect(await compatible.result('products', 'get', theirs.fingerprint, { id: 7 })).toEqual({ id: 7 });
  });
});
