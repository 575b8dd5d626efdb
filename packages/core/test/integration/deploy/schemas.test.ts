// biome-ignore-all lint/suspicious/noTemplateCurlyInString: topologies use ${VAR} syntax
/**
 * What `blueprint export` writes is what the orchestrators accept: every Kubernetes object validates
 * against the Kubernetes API's own schemas (kubernetes-models, generated from the API's OpenAPI
 * document), `compose.yaml` against the Compose specification's JSON schema (as dclint ships it). A
 * broken field fails the same validation, so the checks are not vacuous.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { defineApp } from '../../../src/app.js';
import { defineService } from '../../../src/contract.js';
import { backingServices } from '../../../src/deploy/backing-services.js';
import { exportEnvironment } from '../../../src/deploy/export-environment.js';
import { planDeployment } from '../../../src/deploy/plan.js';
import { renderCompose } from '../../../src/deploy/render-compose.js';
import { renderKubernetes } from '../../../src/deploy/render-kubernetes.js';
import { topologyVariables } from '../../../src/deploy/variables.js';
import { service } from '../../../src/service.js';
import { parseTopology } from '../../../src/topology.js';
import { GOLDEN_EXPORTS, renderGolden } from './golden-exports.js';

type Json = Record<string, any>;

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

/** Validates one object against the API schema of its kind; throws naming what is wrong. */
function validateObject(object: Json): void {
  const Model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (Model === undefined) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}

function documents(text: string): Json[] {
  return parseAllDocuments(text).map((document) => {
    expect(document.errors).toEqual([]);
    return document.toJS() as Json;
  });
}

const require = createRequire(import.meta.url);
const composeSchemaFile = path.join(
  path.dirname(require.resolve('dclint/package.json')),
  'schemas/compose.schema.json',
);
// The file names draft-07 by its https address, which Ajv (draft-07 by default) knows by its http one.
const { $schema: _draft, ...composeSchema } = JSON.parse(readFileSync(composeSchemaFile, 'utf8'));
const validateCompose = new Ajv({ strict: false, allErrors: true }).compile(composeSchema);

const kubernetesExports = GOLDEN_EXPORTS.filter((entry) => entry.target === 'kubernetes');
const composeExports = GOLDEN_EXPORTS.filter((entry) => entry.target === 'compose');

describe('Kubernetes manifests', () => {
  it.each(kubernetesExports.flatMap((entry) => [false, true].map((hpa) => ({ ...entry, hpa }))))(
    'of $example $variant (hpa: $hpa) validate against the API schemas',
    async (entry) => {
      const files = await renderGolden(entry, { hpa: entry.hpa });
      const objects = Object.values(files).flatMap(documents);
      for (const object of objects)
        expect(() => validateObject(object), `${object.kind} ${object.metadata?.name}`).not.toThrow();
      const processes = Object.keys(files).filter((name) => name !== 'topology.yaml').length;
      const kinds = objects.map((object) => object.kind as string);
      const count = (kind: string) => kinds.filter((k) => k === kind).length;
      expect(count('ConfigMap')).toBe(1);
      for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy']) {
        expect(count(kind), kind).toBe(processes);
      }
      expect(count('HorizontalPodAutoscaler')).toBe(entry.hpa ? processes : 0);
      // Secrets are referenced, never written.
      expect(count('Secret')).toBe(0);
    },
  );

  it('fail validation when a field is broken', async () => {
    const files = await renderGolden(
      kubernetesExports.find((entry) => entry.variant === 'split' && entry.example === 'examples/shop')!,
    );
    const [deployment, service, budget, policy] = documents(files['products.yaml']!);
    expect(() => validateObject(deployment!)).not.toThrow();
    const broken = structuredClone(deployment!);
    broken.spec.replicas = 'two';
    expect(() => validateObject(broken)).toThrow(/replicas must be integer/);
    const unnamed = structuredClone(deployment!);
    delete unnamed.spec.template.spec.containers[0].name;
    expect(() => validateObject(unnamed)).toThrow(/name/);
    const badProbe = structuredClone(deployment!);
    badProbe.spec.template.spec.containers[0].readinessProbe.periodSeconds = '5s';
    expect(() => validateObject(badProbe)).toThrow(/periodSeconds/);
    const badService = structuredClone(service!);
    badService.spec.ports[0].port = { number: 4101 };
    expect(() => validateObject(badService)).toThrow(/port/);
    const badBudget = structuredClone(budget!);
    delete badBudget.kind;
    expect(() =>
      validateObject({
        ...badBudget,
        kind: 'PodDisruptionBudget',
        apiVersion: 'policy/v1',
        spec: { selector: 'all' },
      }),
    ).toThrow(/selector/);
    const badPolicy = structuredClone(policy!);
    badPolicy.spec.policyTypes = 'Ingress';
    expect(() => validateObject(badPolicy)).toThrow(/policyTypes/);
  });
});

describe('compose.yaml', () => {
  it.each(composeExports)(
    'of $example $variant validates against the Compose specification',
    async (entry) => {
      const files = await renderGolden(entry);
      const compose = parse(files['compose.yaml']!) as Json;
      const valid = validateCompose(compose);
      expect(validateCompose.errors ?? [], JSON.stringify(validateCompose.errors, null, 2)).toEqual([]);
      expect(valid).toBe(true);
    },
  );

  it('fails validation when a field is broken', async () => {
    const entry = composeExports.find((e) => e.example === 'examples/shop' && e.variant === 'split')!;
    const compose = parse((await renderGolden(entry))['compose.yaml']!) as Json;
    expect(validateCompose(compose)).toBe(true);
    const replicas = structuredClone(compose);
    replicas.services.products.deploy.replicas = { count: 2 };
    expect(validateCompose(replicas)).toBe(false);
    const condition = structuredClone(compose);
    condition.services.orders.depends_on.products.condition = 'healthy';
    expect(validateCompose(condition)).toBe(false);
    const unknown = structuredClone(compose);
    unknown.services.gateway.healthcheck.every = '5s';
    expect(validateCompose(unknown)).toBe(false);
    expect(JSON.stringify(validateCompose.errors)).toContain('every');
  });
});

/** A two-process app whose topology's sections use the given servers; the sections are taken as written. */
function planWith(sections: Record<string, unknown>) {
  const Catalog = defineService('catalog', { get: { input: z.string(), output: z.string() } });
  const Web = defineService('web', {});
  class CatalogService {
    async get(id: string) {
      return id;
    }
  }
  class WebService {}
  const app = defineApp({
    name: 'servers',
    services: [service(Catalog, CatalogService), service(Web, WebService)],
  });
  const raw = {
    app: '../src/app.ts',
    rpc: { type: 'http' },
    auth: { secret: '${SERVICE_SECRET}' },
    admin: { port: { catalog: 9470, web: 9471 } },
    processes: {
      catalog: { services: ['catalog'], address: 'http://127.0.0.1:4001' },
      web: { services: ['web'] },
    },
    ...sections,
  };
  const env = exportEnvironment(topologyVariables(raw), backingServices(raw));
  const loose = Object.keys(sections).map((key) => ({ key, schema: z.looseObject({}) }));
  const topology = parseTopology(raw, { env, sections: loose });
  return planDeployment({ app, topology, raw, topologyFile: 'topology/split.json' });
}

describe('the servers a topology uses', () => {
  const options = { context: '..', dockerfile: 'deploy/Dockerfile', image: 'servers:1.0.0' };

  /** The compose file of the split with `sections`, checked against the compose schema. */
  function composeWith(sections: Record<string, unknown>): Json {
    const compose = parse(renderCompose(planWith(sections), options)['compose.yaml']!) as Json;
    expect(validateCompose(compose), JSON.stringify(validateCompose.errors, null, 2)).toBe(true);
    return compose;
  }

  it('run beside the processes in compose.yaml, keeping events on volumes', () => {
    const compose = composeWith({
      events: { type: 'nats', url: '${NATS_URL:-nats://127.0.0.1:4222}' },
      cache: { type: 'memcached', servers: '${MEMCACHED_SERVERS:-127.0.0.1:11211}' },
    });
    expect(compose.services.nats.command).toEqual([
      '--jetstream',
      '--store_dir',
      '/data',
      '--http_port',
      '8222',
    ]);
    expect(compose.services.nats.volumes).toEqual(['nats-data:/data']);
    expect(compose.services.memcached.volumes).toBeUndefined();
    expect(Object.keys(compose.volumes)).toEqual(['nats-data']);
    for (const name of ['catalog', 'web']) {
      expect(compose.services[name].environment).toMatchObject({
        NATS_URL: 'nats://nats:4222',
        MEMCACHED_SERVERS: 'memcached:11211',
      });
      expect(compose.services[name].depends_on).toMatchObject({
        nats: { condition: 'service_healthy' },
        memcached: { condition: 'service_started' },
      });
    }
    expect(compose.services.web.depends_on.catalog).toBeUndefined();
  });

  it('run Kafka for kafka events, and a Redis with AOF only where events are', () => {
    const compose = composeWith({
      events: { type: 'kafka', brokers: '${KAFKA_BROKERS:-127.0.0.1:9092}' },
      cache: { type: 'redis', url: '${CACHE_URL:-redis://127.0.0.1:6379}' },
    });
    expect(compose.services.kafka.volumes).toEqual(['kafka-data:/var/lib/kafka/data']);
    expect(compose.services.kafka.environment.KAFKA_ADVERTISED_LISTENERS).toBe('PLAINTEXT://kafka:9092');
    expect(compose.services.redis.command).toContain('allkeys-lru');
    expect(compose.services.redis.command).not.toContain('everysec');
    expect(compose.services.redis.volumes).toBeUndefined();
    expect(compose.services.catalog.environment).toMatchObject({
      KAFKA_BROKERS: 'kafka:9092',
      CACHE_URL: 'redis://redis:6379',
    });
    expect(compose.services.catalog.depends_on).toMatchObject({
      kafka: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });

    const redis = composeWith({ events: { type: 'redis-streams', url: '${REDIS_URL}' } }).services.redis;
    expect(redis.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--appendfsync', 'everysec']),
    );
    expect(redis.command).toContain('noeviction');
    expect(redis.volumes).toEqual(['redis-data:/data']);
  });

  it('are Secret references in Kubernetes, never values', () => {
    const plan = planWith({ events: { type: 'nats', url: '${NATS_URL:-nats://user:pw@127.0.0.1:4222}' } });
    const files = renderKubernetes(plan, { image: 'servers:1.0.0' });
    const [deployment] = documents(files['catalog.yaml']!);
    expect(() => validateObject(deployment!)).not.toThrow();
    const env = deployment!.spec.template.spec.containers[0].env as Json[];
    expect(env.find((entry) => entry.name === 'NATS_URL')).toEqual({
      name: 'NATS_URL',
      valueFrom: { secretKeyRef: { name: 'servers-backing', key: 'NATS_URL' } },
    });
    expect(env.find((entry) => entry.name === 'SERVICE_SECRET')).toEqual({
      name: 'SERVICE_SECRET',
      valueFrom: { secretKeyRef: { name: 'servers-secrets', key: 'SERVICE_SECRET' } },
    });
    expect(files['catalog.yaml']).not.toContain('user:pw');
  });
});
