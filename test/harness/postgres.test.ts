import { existsSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startPostgres } from './index.js';

describe('startPostgres', () => {
  it('runs a private server whose committed rows survive a kill and a restart, and removes it on stop', async () => {
    const server = await startPostgres();
    expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/postgres`);
    const query = async (sql: string) => {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        return (await client.query(sql)).rows;
      } finally {
        await client.end();
      }
    };
    await query('CREATE TABLE kept (n INT); INSERT INTO kept VALUES (1), (2)');
    const before = server.pid;
    await server.kill();
    expect(server.running).toBe(false);
    await server.restart();
    expect(server.pid).not.toBe(before);
    expect(await query('SELECT n FROM kept ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);
    await server.stop();
    expect(existsSync(server.dir)).toBe(false);
  });
});
