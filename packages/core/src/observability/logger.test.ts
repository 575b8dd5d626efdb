import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConflictError, hasErrorCode, InternalError } from '../errors.js';
import { createLogger, errorFields, resolveLogLevel } from './logger.js';
import { createTelemetry } from './telemetry.js';
import { CORE_VERSION } from './version.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (line: string) => lines.push(JSON.parse(line)) } };
}

describe('log level', () => {
  it('takes LOG_LEVEL first, then the topology, then info', () => {
    expect(resolveLogLevel('warn', { LOG_LEVEL: 'debug' })).toBe('debug');
    expect(resolveLogLevel('warn', { LOG_LEVEL: ' ERROR ' })).toBe('error');
    expect(resolveLogLevel('warn', {})).toBe('warn');
    expect(resolveLogLevel(undefined, { LOG_LEVEL: '' })).toBe('info');
  });

  it('refuses an unknown LOG_LEVEL, listing the allowed values', () => {
    let error: unknown;
    try {
      resolveLogLevel(undefined, { LOG_LEVEL: 'verbose' });
    } catch (e) {
      error = e;
    }
    expect(hasErrorCode(error, 'TOPOLOGY_INVALID')).toBe(true);
    expect((error as Error).message).toBe(
      'environment variable LOG_LEVEL is "verbose"; use one of trace, debug, info, warn, error, fatal, silent',
    );
  });
});

describe('logger', () => {
  it('writes JSON lines with app, process and pid, a component per child, below-level lines dropped', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ app: 'shop', process: 'orders', level: 'info', destination });
    const child = logger.child({ component: 'events' });
    child.debug('hidden');
    child.info({ event: 'order.placed' }, 'handled');
    expect(lines).toEqual([
      {
        level: 30,
        time: expect.any(Number),
        app: 'shop',
        process: 'orders',
        pid: process.pid,
        component: 'events',
        event: 'order.placed',
        msg: 'handled',
      },
    ]);
  });

  it('logs errors under err with code, message and cause; stacks only for uncoded errors', () => {
    const { lines, destination } = capture();
    const logger = createLogger({ app: 'shop', process: 'orders', level: 'info', destination });
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
    logger.error({ err: new ConflictError('order o1 is already paid', { cause }) }, 'failed');
    logger.error(new Error('boom'), 'bug');
    expect(lines[0]!.err).toEqual({
      code: 'CONFLICT',
      message: 'order o1 is already paid',
      cause: {
        code: 'ECONNREFUSED',
        message: 'connect ECONNREFUSED 127.0.0.1:6379',
        stack: expect.any(String),
      },
    });
    expect(lines[1]).toMatchObject({ msg: 'bug', err: { code: 'INTERNAL', message: 'boom' } });
    expect((lines[1]!.err as { stack: string }).stack).toContain('logger.test.ts');
  });

  it('turns anything thrown into { code, message }, following causes a few levels deep', () => {
    expect(errorFields('plain string')).toEqual({ code: 'INTERNAL', message: 'plain string' });
    let nested: unknown = new InternalError('bottom');
    for (let i = 0; i < 10; i++) nested = new InternalError(`level ${i}`, { cause: nested });
    let depth = 0;
    for (let e = errorFields(nested); e.cause !== undefined; e = e.cause) depth++;
    expect(depth).toBe(4);
  });
});

describe('telemetry', () => {
  it('builds logger, metrics and tracing from the topology section and the environment', () => {
    const { lines, destination } = capture();
    const telemetry = createTelemetry({
      app: 'shop',
      process: 'payments',
      config: { logLevel: 'debug', metrics: { enabled: false }, tracing: { enabled: false } },
      env: { LOG_LEVEL: 'warn' },
      logDestination: destination,
    });
    telemetry.logger.info('dropped');
    telemetry.logger.warn('kept');
    expect(lines.map((l) => l.msg)).toEqual(['kept']);
    expect(telemetry.metrics.enabled).toBe(false);
    expect(telemetry.tracingEnabled).toBe(false);
    expect(telemetry.tracingActive()).toBe(false);
  });

  it('reports the package version to the tracer', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(CORE_VERSION).toBe(manifest.version);
  });
});

describe('standard output', () => {
  it('writes buffered lines within the flush interval without asking the system to sync the file', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtempSync, openSync, closeSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'bp-log-'));
    const file = path.join(dir, 'out.log');
    const fd = openSync(file, 'w');
    const logger = new URL('./logger.ts', import.meta.url).href;
    // The child counts fsync calls, logs one line, and reports once the line is in the file.
    const script = `
      import fs from 'node:fs';
      let syncs = 0;
      const fsyncSync = fs.fsyncSync;
      fs.fsyncSync = (...args) => { syncs++; return fsyncSync(...args); };
      const { createLogger } = await import(${JSON.stringify(logger)});
      createLogger({ app: 'probe', process: 'main', level: 'info' }).info('first line');
      const started = Date.now();
      while (fs.readFileSync(${JSON.stringify(file)}, 'utf8') === '' && Date.now() - started < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      process.stderr.write(JSON.stringify({ written: fs.readFileSync(${JSON.stringify(file)}, 'utf8'), syncs }));
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', fd, 'pipe'],
    });
    closeSync(fd);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const report = JSON.parse(stderr) as { written: string; syncs: number };
    expect(JSON.parse(report.written)).toMatchObject({ msg: 'first line', level: 30 });
    expect(report.syncs).toBe(0);
    // The exit handler flushes and syncs; the file still holds the one line.
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
