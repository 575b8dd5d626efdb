import {
  type CallContext,
  defineApp,
  defineService,
  type ImplementationOf,
  type InjectionToken,
  inject,
  injectable,
  isRemoteUnavailableError,
  service,
} from '@blueprint/core';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { waitFor } from '../../../../test/harness/index.js';
import { appStarter } from '../../../../test/harness/started-apps.js';

/** Lets the test decide when each job finishes: no sleeps. */
class Gates {
  readonly entered = new Set<string>();
  readonly aborted = new Set<string>();
  private readonly releases = new Map<string, () => void>();

  wait(id: string, signal: AbortSignal | undefined): Promise<void> {
    this.entered.add(id);
    return new Promise((resolve, reject) => {
      this.releases.set(id, resolve);
      signal?.addEventListener('abort', () => {
        this.aborted.add(id);
        reject(signal.reason);
      });
    });
  }

  release(id: string): void {
    this.releases.get(id)?.();
  }

  releaseAll(): void {
    for (const release of this.releases.values()) release();
  }
}
const GATES: InjectionToken<Gates> = Symbol('gates');

const Jobs = defineService('jobs', {
  run: { input: z.object({ id: z.string() }), output: z.object({ id: z.string(), done: z.boolean() }) },
});

@injectable()
class JobsService implements ImplementationOf<typeof Jobs> {
  constructor(@inject(GATES) private readonly gates: Gates) {}
  async run({ id }: { id: string }, context?: CallContext) {
    await this.gates.wait(id, context?.signal);
    return { id, done: true };
  }
}

const gates = new Gates();
const app = defineApp({
  name: 'drain',
  services: [service(Jobs, JobsService)],
  providers: [{ token: GATES, useValue: gates }],
});

const started = appStarter();
// After hooks run last-registered first: the gates open before the apps stop.
afterEach(() => gates.releaseAll());

async function pair(shutdownTimeout: string, drainDelay = '0s') {
  const topology = {
    app: './drain.js',
    rpc: { type: 'http', timeout: '20s' },
    auth: 'none',
    shutdownTimeout,
    drainDelay,
    processes: { worker: { services: ['jobs'], address: 'http://127.0.0.1:0' }, caller: { services: [] } },
  };
  const worker = await started(app, { topology, process: 'worker' });
  const caller = await started(app, { topology, process: 'caller', addresses: { worker: worker.rpcUrl! } });
  return { worker, jobs: caller.client(Jobs) };
}

describe('stop() drains in-flight calls', () => {
  it('waits for a slow call, whose caller gets its result, and refuses new calls meanwhile', async () => {
    const { worker, jobs } = await pair('20s');
    const slow = jobs.run({ id: 'slow' });
    await waitFor(() => gates.entered.has('slow'), { message: 'the slow call to start' });

    const stopping = worker.stop();
    await waitFor(() => worker.state === 'stopping', { message: 'the worker to begin stopping' });

    const late = await jobs.run({ id: 'late' }).catch((error: unknown) => error);
    expect(isRemoteUnavailableError(late)).toBe(true);
    expect(gates.entered.has('late')).toBe(false);
    expect(worker.state).toBe('stopping');

    gates.release('slow');
    expect(await slow).toEqual({ id: 'slow', done: true });
    await stopping;
    expect(worker.state).toBe('stopped');
    expect(gates.aborted.has('slow')).toBe(false);
  });

  it('gives up after shutdownTimeout: the call is cut, its caller told, the implementation signalled', async () => {
    const { worker, jobs } = await pair('200ms');
    const stuck = jobs.run({ id: 'stuck' }).catch((error: unknown) => error);
    await waitFor(() => gates.entered.has('stuck'), { message: 'the stuck call to start' });
    const began = Date.now();
    await worker.stop();
    expect(Date.now() - began).toBeGreaterThanOrEqual(190);
    expect(isRemoteUnavailableError(await stuck)).toBe(true);
    await waitFor(() => gates.aborted.has('stuck'), {
      message: 'the implementation to see its signal abort',
    });
  });
});

describe('the drain delay', () => {
  it('reports not ready at once and keeps serving new calls for the delay, then drains', async () => {
    const { worker, jobs } = await pair('5s', '300ms');
    expect((await fetch(`${worker.rpcUrl}/health/ready`)).status).toBe(200);
    const began = Date.now();
    const stopping = worker.stop();
    expect(worker.state).toBe('draining');
    expect((await worker.readiness()).ok).toBe(false);
    expect((await fetch(`${worker.rpcUrl}/health/ready`)).status).toBe(503);
    const during = jobs.run({ id: 'during-drain' });
    await waitFor(() => gates.entered.has('during-drain'), {
      message: 'the call made during the drain delay to run',
    });
    gates.release('during-drain');
    expect(await during).toEqual({ id: 'during-drain', done: true });
    await stopping;
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
    expect(worker.state).toBe('stopped');
  });
});
