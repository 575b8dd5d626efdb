import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, request, type Server, type ServerOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestCertificate, type TestPki } from './index.js';

let pki: TestPki;
const servers: Server[] = [];

beforeAll(async () => {
  pki = await createTestPki({ clients: ['gateway', 'orders'] });
});

afterAll(async () => {
  await pki.dispose();
});

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    ),
  );
});

/** An HTTPS server on a free port that answers with the CN of the client certificate (or `anonymous`). */
async function httpsServer(options: ServerOptions): Promise<number> {
  const server = createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    res.end(socket.authorized && peer.subject !== undefined ? `hello ${peer.subject.CN}` : 'hello anonymous');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('server has no port');
  return address.port;
}

/** GET over a fresh TLS connection: the body, or the error code the client saw. */
function get(
  port: number,
  trust: TestCertificate,
  client?: TestCertificate,
  host = '127.0.0.1',
): Promise<{ body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      {
        host,
        port,
        path: '/',
        agent: false,
        ca: trust.cert,
        ...(client === undefined ? {} : { key: client.key, cert: client.cert }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          body += text;
        });
        res.on('end', () => resolve({ body }));
        res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

describe('createTestPki', () => {
  it('writes PEM files for a CA, a server, named clients and an unrelated CA', () => {
    const server = new X509Certificate(pki.server.cert);
    expect(server.checkIssued(new X509Certificate(pki.ca.cert))).toBe(true);
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(new X509Certificate(pki.ca.cert).ca).toBe(true);
    expect(pki.clients.map((client) => client.name)).toEqual(['gateway', 'orders']);
    expect(pki.client).toBe(pki.clientFor('gateway'));
    expect(new X509Certificate(pki.clientFor('orders').cert).subject).toBe('CN=orders');
    expect(new X509Certificate(pki.otherServer.cert).checkIssued(new X509Certificate(pki.ca.cert))).toBe(
      false,
    );
    expect(pki.server.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    for (const file of [pki.ca, pki.server, pki.client, pki.otherCa, pki.otherServer, pki.otherClient]) {
      expect(existsSync(file.certPath) && existsSync(file.keyPath)).toBe(true);
    }
    expect(() => pki.clientFor('nobody')).toThrow(/no client certificate nobody; issued: gateway, orders/);
  });

  it('serves TLS to a client that trusts the CA, by IP and by name', async () => {
    const port = await httpsServer({ key: pki.server.key, cert: pki.server.cert });
    expect(await get(port, pki.ca)).toEqual({ body: 'hello anonymous' });
    expect(await get(port, pki.ca, undefined, 'localhost')).toEqual({ body: 'hello anonymous' });
  });

  it('is refused by a client that trusts the other CA, and refuses a server of the other CA', async () => {
    const port = await httpsServer({ key: pki.server.key, cert: pki.server.cert });
    expect(await get(port, pki.otherCa)).toEqual({ error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });

    const otherPort = await httpsServer({ key: pki.otherServer.key, cert: pki.otherServer.cert });
    expect(await get(otherPort, pki.ca)).toEqual({ error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(await get(otherPort, pki.otherCa)).toEqual({ body: 'hello anonymous' });
  });

  it('with mutual TLS refuses a client without a certificate or with one of the other CA, and names the caller', async () => {
    const port = await httpsServer({
      key: pki.server.key,
      cert: pki.server.cert,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: true,
    });

    // TLS 1.3: the client learns of the refusal from an alert or, racing it, from the reset connection.
    expect(await get(port, pki.ca)).toEqual({
      error: expect.stringMatching(/CERTIFICATE_REQUIRED|ECONNRESET/),
    });
    expect(await get(port, pki.ca, pki.otherClient)).toEqual({
      error: expect.stringMatching(/UNKNOWN_CA|ECONNRESET/),
    });

    expect(await get(port, pki.ca, pki.client)).toEqual({ body: 'hello gateway' });
    expect(await get(port, pki.ca, pki.clientFor('orders'))).toEqual({ body: 'hello orders' });
  });

  it('rejects bad options and removes its dir on dispose()', async () => {
    await expect(createTestPki({ clients: ['no spaces'] })).rejects.toThrow(/may hold only/);
    await expect(createTestPki({ clients: [] })).rejects.toThrow(/at least one client/);
    const own = await createTestPki({ hosts: ['api.test', '10.0.0.1'], days: 2 });
    expect(new X509Certificate(own.server.cert).subjectAltName).toBe('DNS:api.test, IP Address:10.0.0.1');
    await own.dispose();
    await own.dispose();
    expect(existsSync(own.dir)).toBe(false);
  });
});
