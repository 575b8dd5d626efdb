import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as ipcConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createTestPki,
  type ProxyConfig,
  type ProxyHandle,
  startHaproxy,
  startNginx,
  waitFor,
} from './index.js';

/** A tiny HTTP replica that answers every request with its name. */
interface Upstream {
  readonly name: string;
  readonly port: number;
  /** Closes the listener and every connection: the port refuses from now on. */
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function upstream(name: string): Promise<Upstream> {
  const server: Server = createServer((request, response) => {
    response.setHeader('x-upstream', name);
    response.end(request.url === '/health' ? 'ok' : name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('upstream has no port');
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  cleanups.push(close);
  return { name, port: address.port, close };
}

async function track(proxy: Promise<ProxyHandle>): Promise<ProxyHandle> {
  const handle = await proxy;
  cleanups.push(() => handle.stop());
  return handle;
}

/** GETs `url` `count` times, one after the other, each on a fresh connection; returns the bodies. */
async function getMany(url: string, count: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(url, { headers: { connection: 'close' } });
    expect(response.status).toBe(200);
    bodies.push(await response.text());
  }
  return bodies;
}

/** Live processes (not zombies) that are `pids`, or in the process group `group`, per `ps`. */
function livingProcesses(pids: readonly number[], group?: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], (error, stdout) => {
      if (error !== null) return reject(error);
      const lines = String(stdout)
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      resolve(
        lines.filter((line) => {
          const [pid, pgid, stat] = line
            .split(/\s+/)
            .map((field, index) => (index < 2 ? Number(field) : field));
          if (typeof stat === 'string' && stat.startsWith('Z')) return false;
          return pids.includes(pid as number) || (group !== undefined && pgid === group);
        }),
      );
    });
  });
}

/** Sends one command to haproxy's stats socket and returns the reply. */
function haproxyCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const socket = ipcConnect(socketPath, () => socket.end(`${command}\n`));
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      reply += text;
    });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

const nginxConfig =
  (servers: () => readonly Upstream[]): ProxyConfig =>
  ({ host, port }) =>
    `
    http {
      upstream replicas {
        ${servers()
          .map((server) => `server 127.0.0.1:${server.port} max_fails=1 fail_timeout=10s;`)
          .join('\n')}
      }
      server {
        listen ${host}:${port};
        location / {
          proxy_pass http://replicas;
          proxy_next_upstream error timeout http_502;
          proxy_connect_timeout 1s;
        }
      }
    }`;

const haproxyConfig =
  (servers: () => readonly Upstream[]): ProxyConfig =>
  ({ host, port, dir }) =>
    `
global
  stats socket ${dir}/admin.sock level admin
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
  retries 2
  option redispatch 1
  retry-on conn-failure empty-response response-timeout
frontend web
  bind ${host}:${port}
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
${servers()
  .map((server) => `  server ${server.name} 127.0.0.1:${server.port} check inter 100ms fall 1 rise 1`)
  .join('\n')}
`;

describe('startNginx', () => {
  it('round-robins across two upstreams and moves on to the other when one is closed', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const proxy = await track(startNginx({ config: nginxConfig(() => [a, b]) }));
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
    expect(proxy.configText).toContain(`client_body_temp_path "${proxy.dir}/client_body_temp"`);

    expect(new Set(await getMany(proxy.url, 4))).toEqual(new Set(['a', 'b']));

    await b.close();
    expect(await getMany(proxy.url, 6)).toEqual(['a', 'a', 'a', 'a', 'a', 'a']);
  });

  it('reload() applies a new config without a new master; a config nginx -t rejects is reported', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    let servers = [a, b];
    const proxy = await track(startNginx({ config: nginxConfig(() => servers) }));
    const master = proxy.pid;

    servers = [b];
    await proxy.reload();
    expect(proxy.pid).toBe(master);
    expect(await getMany(proxy.url, 4)).toEqual(['b', 'b', 'b', 'b']);

    await expect(proxy.reload(() => 'http { no_such_directive on; }')).rejects.toThrow(
      /nginx rejected its config[\s\S]*unknown directive "no_such_directive"/,
    );
    expect(await getMany(proxy.url, 2)).toEqual(['b', 'b']);
  });

  it('picks as many ports as asked for and waits until all accept', async () => {
    const proxy = await track(
      startNginx({
        listeners: 2,
        config: ({ ports }) =>
          `http { ${ports.map((port, i) => `server { listen 127.0.0.1:${port}; return 200 "listener ${i}"; }`).join(' ')} }`,
      }),
    );
    expect(proxy.ports).toHaveLength(2);
    expect(proxy.ports[0]).toBe(proxy.port);
    const second = await fetch(`http://127.0.0.1:${proxy.ports[1]}/`);
    expect(await second.text()).toBe('listener 1');
  });

  it('terminates mutual TLS with certificates of the test PKI', async () => {
    const pki = await createTestPki();
    cleanups.push(() => pki.dispose());
    const proxy = await track(
      startNginx({
        scheme: 'https',
        config: ({ host, port }) => `
          http {
            server {
              listen ${host}:${port} ssl;
              ssl_certificate ${pki.server.certPath};
              ssl_certificate_key ${pki.server.keyPath};
              ssl_client_certificate ${pki.ca.certPath};
              ssl_verify_client on;
              return 200 "$ssl_client_s_dn";
            }
          }`,
      }),
    );
    expect(proxy.url).toBe(`https://127.0.0.1:${proxy.port}`);
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        proxy.url,
        { ca: pki.ca.cert, key: pki.client.key, cert: pki.client.cert, agent: false },
        (res) => {
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('CN=gateway');
  });

  it('kill() takes the workers with the master; restart() serves again; stop() leaves no process', async () => {
    const a = await upstream('a');
    const proxy = await track(startNginx({ config: nginxConfig(() => [a]) }));
    const group = proxy.pid;
    const running = await livingProcesses([group], group);
    expect(running.length).toBeGreaterThanOrEqual(2); // master + worker
    expect(running.join('\n')).toMatch(/nginx: worker process/);

    await proxy.kill();
    await waitFor(async () => (await livingProcesses([group], group)).length === 0, {
      message: 'nginx master and workers to be gone after kill()',
    });

    await proxy.restart();
    expect(await getMany(proxy.url, 1)).toEqual(['a']);
    const restarted = proxy.pid;
    const pids = (await livingProcesses([restarted], restarted)).map((line) => Number(line.split(/\s+/)[0]));

    await proxy.stop();
    expect(await livingProcesses(pids, restarted)).toEqual([]);
    expect(existsSync(proxy.dir)).toBe(false);
  });
});

describe('startHaproxy', () => {
  it('round-robins across two upstreams and retries on the other when one is closed', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const proxy = await track(startHaproxy({ config: haproxyConfig(() => [a, b]) }));

    expect(new Set(await getMany(proxy.url, 4))).toEqual(new Set(['a', 'b']));

    // Right after the close, before a health check noticed: the retry goes to `a`.
    await b.close();
    expect(await getMany(proxy.url, 6)).toEqual(['a', 'a', 'a', 'a', 'a', 'a']);
  });

  it('accepts a health-check config and marks a closed upstream DOWN', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const proxy = await track(startHaproxy({ config: haproxyConfig(() => [a, b]) }));
    const socket = `${proxy.dir}/admin.sock`;
    const status = async (server: string) => {
      const csv = await haproxyCommand(socket, 'show stat');
      const row = csv.split('\n').find((line) => line.startsWith(`replicas,${server},`));
      return row?.split(',')[17];
    };
    await waitFor(async () => (await status('a')) === 'UP' && (await status('b')) === 'UP', {
      message: 'both upstreams UP',
    });

    await b.close();
    await waitFor(async () => (await status('b')) === 'DOWN', { message: 'the closed upstream DOWN' });
    expect(await status('a')).toBe('UP');
  });

  it('reload() restarts on the same port with the new config; a config haproxy -c rejects is reported', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    let servers = [a, b];
    const proxy = await track(startHaproxy({ config: haproxyConfig(() => servers) }));
    const port = proxy.port;

    servers = [a];
    await proxy.reload();
    expect(proxy.port).toBe(port);
    expect(await getMany(proxy.url, 4)).toEqual(['a', 'a', 'a', 'a']);

    await expect(proxy.reload(() => 'frontend web\n  no_such_keyword\n')).rejects.toThrow(
      /haproxy rejected its config[\s\S]*unknown keyword 'no_such_keyword'/,
    );
    expect(proxy.running).toBe(true);
    expect(await getMany(proxy.url, 1)).toEqual(['a']);
  });

  it('stop() leaves no process and removes the temp dir', async () => {
    const a = await upstream('a');
    const proxy = await track(startHaproxy({ config: haproxyConfig(() => [a]) }));
    const pid = proxy.pid;
    expect(await livingProcesses([pid])).toHaveLength(1);

    await proxy.stop();
    expect(await livingProcesses([pid])).toEqual([]);
    expect(existsSync(proxy.dir)).toBe(false);
  });
});
