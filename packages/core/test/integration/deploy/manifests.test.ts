/**
 * What each exported file of the split shop promises an operator, asserted field by field (the golden
 * files show every line; these name the properties that must hold): one non-root image whose command
 * receives SIGTERM, Compose services that wait for healthy dependencies, Deployments probed on the admin
 * listener that drain before they stop, secrets by reference, and NetworkPolicies that follow the
 * contract graph.
 */
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { prepareExport } from '../../../src/cli/export-command.js';
import { renderDockerfile } from '../../../src/deploy/render-dockerfile.js';
import { type ParsedDockerfile, parseDockerfile } from './dockerfile-replay.js';
import { type GoldenExport, renderGolden, topologyOf } from './golden-exports.js';

type Json = Record<string, any>;

const split = { example: 'examples/shop', topology: 'topology/split.json', variant: 'split' } as const;
const of = (target: GoldenExport['target']) => renderGolden({ ...split, target });
const PROCESSES = ['products', 'orders', 'payments', 'gateway'];

describe("the split shop's export", () => {
  it('builds one image: multi-stage, production dependencies only, non-root, SIGTERM reaching Node', async () => {
    const dockerfile = (await of('dockerfile')).Dockerfile!;
    // The shop has no build script: its sources run as they are, after the dependencies' stage.
    expect(parseDockerfile(dockerfile).stages.map((stage) => stage.name)).toEqual(['deps', undefined]);
    expect(dockerfile).toContain('RUN npm ci --omit=dev --no-audit --no-fund');
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(final).toContain('ENV NODE_ENV=production');
    expect(final).toMatch(/^USER node$/m);
    expect(final).not.toMatch(/apt-get|g\+\+/);
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(final)![1]!;
    // Exec form (a JSON array): no shell between the container runtime and Node.
    expect(JSON.parse(entrypoint)).toEqual([
      'node',
      'node_modules/@blueprint/core/bin/blueprint.js',
      'start',
    ]);
  });

  it('runs the build script of an app that has one in a stage of its own', async () => {
    const prepared = await prepareExport(topologyOf({ ...split, target: 'dockerfile' }), {
      typescriptRegistered: true,
    });
    const options = { nodeVersion: '22', dockerfileDir: 'deploy', image: 'shop:1.0.0' };
    const built = parseDockerfile(renderDockerfile(prepared.plan, { ...options, build: true }).Dockerfile!);
    expect(built.stages.map((stage) => stage.name)).toEqual(['deps', 'build', undefined]);
    const steps = (stage: ParsedDockerfile['stages'][number]) =>
      stage.steps.map((step) => `${step.op} ${step.args}`);
    expect(steps(built.stages[1]!)).toEqual([
      'RUN npm ci --no-audit --no-fund',
      'COPY . .',
      'RUN npm run build && rm -rf node_modules',
    ]);
    expect(steps(built.stages[2]!)).toContain('COPY --from=build /app ./');
    const plain = parseDockerfile(renderDockerfile(prepared.plan, { ...options, build: false }).Dockerfile!);
    expect(steps(plain.stages[1]!)).toContain('COPY . .');
    expect(steps(plain.stages[1]!).filter((step) => step.startsWith('RUN npm'))).toEqual([]);
  });

  it('runs every process in Compose from that image, healthy before its callers start', async () => {
    const compose = parse((await of('compose'))['compose.yaml']!) as Json;
    const services = compose.services as Record<string, Json>;
    expect(new Set(PROCESSES.map((name) => services[name]!.image)).size).toBe(1);
    expect(services.products!.deploy.replicas).toBe(2);
    for (const name of PROCESSES) {
      const service = services[name]!;
      expect(service.environment.BLUEPRINT_PROCESS).toBe(name);
      expect(service.healthcheck.test.join(' ')).toMatch(/http:\/\/127\.0\.0\.1:946\d\/health\/ready/);
      expect(service.depends_on.redis).toEqual({ condition: 'service_healthy' });
      expect(service.read_only).toBe(true);
    }
    expect(services.orders!.depends_on.products).toEqual({ condition: 'service_healthy' });
    expect(services.gateway!.depends_on).toMatchObject({
      products: { condition: 'service_healthy' },
      orders: { condition: 'service_healthy' },
    });
    expect(services.gateway!.ports).toEqual(['3000:3000']);
    // Events live in Redis: AOF fsynced every second, never evicted, on a volume.
    expect(services.redis!.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--appendfsync', 'everysec', 'noeviction']),
    );
    expect(services.redis!.volumes).toEqual(['redis-data:/data']);
    expect(compose.volumes).toHaveProperty('redis-data');
  });

  it('gives each Deployment probes on the admin listener and a stop that outlasts the drain', async () => {
    const files = await of('kubernetes');
    const { plan } = await prepareExport(topologyOf({ ...split, target: 'kubernetes' }), {
      typescriptRegistered: true,
    });
    for (const name of PROCESSES) {
      const [deployment] = parseAllDocuments(files[`${name}.yaml`]!).map((doc) => doc.toJS() as Json);
      const pod = deployment!.spec.template.spec;
      const container = pod.containers[0];
      expect(deployment!.spec.replicas).toBe(name === 'products' ? 2 : 1);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(container[probe].httpGet.port, `${name} ${probe}`).toBe('admin');
      }
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      const preStop = container.lifecycle.preStop.sleep.seconds as number;
      expect(preStop).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(
        preStop + (plan.drain.drainDelay + plan.drain.shutdownTimeout) / 1000,
      );
      expect(container.resources.requests).toBeDefined();
      expect(container.resources.limits).toBeDefined();
      expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      const secret = container.env.find((entry: Json) => entry.name === 'SERVICE_SECRET');
      expect(secret).toEqual({
        name: 'SERVICE_SECRET',
        valueFrom: { secretKeyRef: { name: 'shop-secrets', key: 'SERVICE_SECRET' } },
      });
    }
  });

  it('admits RPC calls to each process only from the processes whose services call it', async () => {
    const files = await of('kubernetes');
    const rpcCallers = (name: string): string[] => {
      const policy = parseAllDocuments(files[`${name}.yaml`]!)
        .map((doc) => doc.toJS() as Json)
        .find((object) => object.kind === 'NetworkPolicy')!;
      return policy.spec.ingress
        .filter((rule: Json) =>
          rule.from?.some((peer: Json) => peer.podSelector?.matchLabels?.['app.kubernetes.io/component']),
        )
        .flatMap((rule: Json) =>
          rule.from.map((peer: Json) => peer.podSelector.matchLabels['app.kubernetes.io/component']),
        )
        .sort();
    };
    expect(rpcCallers('products')).toEqual(['gateway', 'orders']);
    expect(rpcCallers('orders')).toEqual(['gateway']);
    // Payments hears of orders through events only: no process calls it.
    expect(rpcCallers('payments')).toEqual([]);
    expect(rpcCallers('gateway')).toEqual([]);
  });
});
