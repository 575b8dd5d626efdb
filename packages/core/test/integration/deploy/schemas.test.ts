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
