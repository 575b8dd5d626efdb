/**
 * A throw-away TLS PKI for tests of TLS and mutual TLS between services, made with the `openssl` CLI:
 * a CA, a server certificate for `localhost`/`127.0.0.1`/`::1`, client certificates naming their callers,
 * and a second, unrelated CA with its own server and client certificate for "wrong CA is refused" tests.
 *
 * Keys are EC P-256 (fast to make), certificates are valid for a day, and everything lives in one temp
 * dir that `dispose()` (or the process exit) removes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './servers.js';

/** Options of {@link createTestPki}. */
export interface TestPkiOptions {
  /**
   * Names of the client certificates to issue, each as CN and DNS SAN, e.g. `['gateway', 'orders']`.
   * Letters, digits, `.`, `_` and `-` only. Default `['gateway']`.
   */
  clients?: readonly string[];
  /** DNS names and IP addresses of the server certificates (SANs). Default `['localhost', '127.0.0.1', '::1']`. */
  hosts?: readonly string[];
  /** Validity in days, from now. Default `1`. */
  days?: number;
}

/** A certificate and its private key, as PEM text and as files. */
export interface TestCertificate {
  /** The subject CN: the CA's name, `localhost` for servers, the caller's name for clients. */
  readonly name: string;
  /** PEM of the certificate (`-----BEGIN CERTIFICATE-----`). */
  readonly cert: string;
  /** PEM of the unencrypted PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`). */
  readonly key: string;
  /** Path of the certificate file, e.g. for nginx's `ssl_certificate`. */
  readonly certPath: string;
  /** Path of the key file, e.g. for nginx's `ssl_certificate_key`. */
  readonly keyPath: string;
}

/** What {@link createTestPki} made. */
export interface TestPki {
  /** The temp dir holding every file. */
  readonly dir: string;
  /** The CA everything below is signed by; trust `ca.cert` (node's `ca` option, nginx's `ssl_client_certificate`). */
  readonly ca: TestCertificate;
  /** Server certificate signed by `ca`, for the `hosts` SANs; extended key usage `serverAuth`. */
  readonly server: TestCertificate;
  /** Client certificates signed by `ca`, in the order of the `clients` option; extended key usage `clientAuth`. */
  readonly clients: readonly TestCertificate[];
  /** The first client certificate (`gateway` by default). */
  readonly client: TestCertificate;
  /** A second CA that has nothing to do with `ca`. */
  readonly otherCa: TestCertificate;
  /** A server certificate for the same `hosts`, signed by `otherCa`: a client trusting `ca` refuses it. */
  readonly otherServer: TestCertificate;
  /** A client certificate with the first client's name, signed by `otherCa`: a server trusting `ca` refuses it. */
  readonly otherClient: TestCertificate;
  /** The client certificate named `name`; throws for a name not in the `clients` option. */
  clientFor(name: string): TestCertificate;
  /** Removes the temp dir. Idempotent. */
  dispose(): Promise<void>;
  /** Same as `dispose()`, for `await using pki = await createTestPki()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

const NAME = /^[A-Za-z0-9._-]+$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const live = new Set<string>();
let exitHandlerInstalled = false;

/**
 * Creates a fresh CA, server and client certificates (see {@link TestPki}) with `openssl` in a temp dir.
 * Takes well under a second.
 *
 * @example
 * await using pki = await createTestPki({ clients: ['gateway'] });
 * const server = https.createServer({
 *   key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true,
 * });
 * // client side: { ca: pki.ca.cert, key: pki.client.key, cert: pki.client.cert }
 */
export async function createTestPki(options: TestPkiOptions = {}): Promise<TestPki> {
  const clients = options.clients ?? ['gateway'];
  const hosts = options.hosts ?? ['localhost', '127.0.0.1', '::1'];
  const days = options.days ?? 1;
  const firstClient = clients[0];
  if (firstClient === undefined) throw new Error('createTestPki: clients must name at least one client');
  for (const name of clients) {
    if (!NAME.test(name))
      throw new Error(`createTestPki: client name ${JSON.stringify(name)} may hold only [A-Za-z0-9._-]`);
  }
  if (new Set(clients).size !== clients.length)
    throw new Error(`createTestPki: client names must be distinct, got ${clients.join(', ')}`);
  if (hosts.length === 0) throw new Error('createTestPki: hosts must name at least one DNS name or IP');
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`createTestPki: days must be a positive integer, got ${days}`);

  const openssl = findBinary({ binary: 'openssl', aptPackage: 'openssl', brewFormula: 'openssl' });
  const dir = await mkdtemp(join(tmpdir(), 'blueprint-pki-'));
  track(dir);
  try {
    const configPath = join(dir, 'openssl.cnf');
    await writeFile(configPath, opensslConfig(hosts, clients));
    const make = new Maker(openssl, dir, configPath, days);

    const [ca, otherCa] = await Promise.all([
      make.ca('ca', 'Blueprint test CA'),
      make.ca('other-ca', 'Blueprint other test CA'),
    ]);
    const [server, otherServer, otherClient, ...issued] = await Promise.all([
      make.leaf('server', 'localhost', 'server_ext', ca),
      make.leaf('other-server', 'localhost', 'server_ext', otherCa),
      make.leaf(`other-client-${firstClient}`, firstClient, 'client_0_ext', otherCa),
      ...clients.map((name, index) => make.leaf(`client-${name}`, name, `client_${index}_ext`, ca)),
    ]);
    if (server === undefined || otherServer === undefined || otherClient === undefined)
      throw new Error('createTestPki: openssl produced fewer certificates than asked for');
    const byName = new Map(issued.map((certificate) => [certificate.name, certificate]));
    const client = byName.get(firstClient);
    if (client === undefined) throw new Error(`createTestPki: no certificate for ${firstClient}`);

    let disposed = false;
    const dispose = async () => {
      if (disposed) return;
      disposed = true;
      live.delete(dir);
      await rm(dir, { recursive: true, force: true });
    };
    return {
      dir,
      ca,
      server,
      clients: issued,
      client,
      otherCa,
      otherServer,
      otherClient,
      clientFor(name: string) {
        const found = byName.get(name);
        if (found === undefined)
          throw new Error(`createTestPki: no client certificate ${name}; issued: ${clients.join(', ')}`);
        return found;
      },
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    live.delete(dir);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Runs the openssl commands; one instance per PKI. */
class Maker {
  constructor(
    private readonly openssl: string,
    private readonly dir: string,
    private readonly configPath: string,
    private readonly days: number,
  ) {}

  /** A self-signed CA certificate with a fresh key. */
  async ca(file: string, name: string): Promise<TestCertificate> {
    const { certPath, keyPath } = this.paths(file);
    await this.run([
      'req',
      '-x509',
      ...this.newKey(keyPath),
      '-out',
      certPath,
      '-subj',
      `/CN=${name}`,
      '-extensions',
      'ca_ext',
      '-days',
      String(this.days),
      '-sha256',
    ]);
    return this.read(name, certPath, keyPath);
  }

  /** A fresh key and a certificate for `name` with the extensions of `section`, signed by `issuer`. */
  async leaf(file: string, name: string, section: string, issuer: TestCertificate): Promise<TestCertificate> {
    const { certPath, keyPath } = this.paths(file);
    const csrPath = join(this.dir, `${file}.csr`);
    await this.run(['req', ...this.newKey(keyPath), '-out', csrPath, '-subj', `/CN=${name}`]);
    await this.run([
      'x509',
      '-req',
      '-in',
      csrPath,
      '-CA',
      issuer.certPath,
      '-CAkey',
      issuer.keyPath,
      // A random serial: no serial file to share between the parallel signings.
      '-set_serial',
      `0x${randomHex(16)}`,
      '-days',
      String(this.days),
      '-sha256',
      '-extfile',
      this.configPath,
      '-extensions',
      section,
      '-out',
      certPath,
    ]);
    return this.read(name, certPath, keyPath);
  }

  private newKey(keyPath: string): string[] {
    return [
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyPath,
      '-config',
      this.configPath,
    ];
  }

  private paths(file: string): { certPath: string; keyPath: string } {
    return { certPath: join(this.dir, `${file}.crt`), keyPath: join(this.dir, `${file}.key`) };
  }

  private async read(name: string, certPath: string, keyPath: string): Promise<TestCertificate> {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { name, cert, key, certPath, keyPath };
  }

  private run(args: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      // Our own config file, so the system's openssl.cnf neither prompts nor adds extensions.
      const env = { ...process.env, OPENSSL_CONF: this.configPath };
      execFile(this.openssl, args, { env }, (error, _stdout, stderr) => {
        if (error === null) resolve();
        else
          reject(new Error(`openssl ${args.join(' ')} failed:\n${String(stderr).trim()}`, { cause: error }));
      });
    });
  }
}

function opensslConfig(hosts: readonly string[], clients: readonly string[]): string {
  const sans = hosts.map((host) => (IPV4.test(host) || host.includes(':') ? `IP:${host}` : `DNS:${host}`));
  const leaf = (usage: string, san: string) => [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    `extendedKeyUsage = ${usage}`,
    `subjectAltName = ${san}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ];
  return `${[
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    'CN = unused',
    '[ca_ext]',
    'basicConstraints = critical, CA:TRUE',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '[server_ext]',
    ...leaf('serverAuth', sans.join(', ')),
    ...clients.flatMap((name, index) => [`[client_${index}_ext]`, ...leaf('clientAuth', `DNS:${name}`)]),
  ].join('\n')}\n`;
}

function randomHex(bytes: number): string {
  const values = randomBytes(bytes);
  // The top bit stays clear: serials are positive.
  values[0] = (values[0] ?? 0) & 0x7f;
  return values.toString('hex');
}

function track(dir: string): void {
  live.add(dir);
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const path of live) rmSync(path, { recursive: true, force: true });
  });
}
