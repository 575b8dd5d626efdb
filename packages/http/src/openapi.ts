/**
 * The OpenAPI 3.1 document of a route table, generated from the contracts' zod schemas with zod's own
 * JSON Schema output (`z.toJSONSchema`, draft 2020-12, which OpenAPI 3.1 uses as is). Path parameters and
 * query fields become parameters, the body the request body, the output schema the success response, and
 * the errors a route can answer (the edge's, the contract's listed errors, the dependency failures) the
 * error responses, all with the one error body.
 */
import { CORE_ERRORS, type CodedErrorClass } from '@blueprint/core';
import { z } from 'zod';
import { HTTP_ERRORS } from './errors.js';
import type { CompiledRoute, Routes } from './routes.js';

/** A JSON Schema object. */
export type JsonSchema = Record<string, unknown>;

/** An OpenAPI 3.1 document (the parts this package writes). */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: { readonly title: string; readonly version: string; readonly description?: string };
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components: { readonly schemas: Record<string, JsonSchema> };
  readonly servers?: readonly { readonly url: string; readonly description?: string }[];
}

/** Options of {@link openApiDocument}. */
export interface OpenApiOptions {
  /** `servers` of the document, e.g. `[{ url: 'https://api.example.com' }]`. Default: none. */
  readonly servers?: readonly { readonly url: string; readonly description?: string }[];
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'A stable machine-readable code, e.g. NOT_FOUND.' },
        message: { type: 'string', description: 'What went wrong, for a person.' },
        details: { description: 'JSON data about the error, e.g. the validation issues.' },
      },
    },
  },
};

const ERROR_REF = { $ref: '#/components/schemas/Error' };

type Override = (ctx: { zodSchema: unknown; jsonSchema: JsonSchema }) => void;

/** Dates and bigints are written as strings (ISO 8601, decimal digits): what the answer carries and the edge accepts. */
const override: Override = ({ zodSchema, jsonSchema }) => {
  const type = (zodSchema as { _zod: { def: { type: string } } })._zod.def.type;
  if (type === 'date') Object.assign(jsonSchema, { type: 'string', format: 'date-time' });
  else if (type === 'bigint')
    Object.assign(jsonSchema, { type: 'string', pattern: '^-?[0-9]+$', format: 'int64' });
};

/** A JSON Schema of `schema`, its `$defs` moved into `components` and the references rewritten. */
function schemaOf(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, JsonSchema>,
): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: override as never,
  }) as JsonSchema;
  delete json.$schema;
  const defs = json.$defs as Record<string, JsonSchema> | undefined;
  delete json.$defs;
  if (defs === undefined) return json;
  for (const [name, def] of Object.entries(defs)) components[name] ??= def;
  return JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
}

function objectParts(json: JsonSchema): { properties: Record<string, JsonSchema>; required: Set<string> } {
  return {
    properties: (json.properties as Record<string, JsonSchema> | undefined) ?? {},
    required: new Set((json.required as string[] | undefined) ?? []),
  };
}

function parametersOf(route: CompiledRoute, input: JsonSchema): unknown[] {
  const { properties, required } = objectParts(input);
  const parameters: unknown[] = route.pattern.params.map((name) => ({
    name,
    in: 'path',
    required: true,
    schema: properties[name] ?? { type: 'string' },
  }));
  if (!route.withBody && route.input.kind === 'object') {
    for (const [name, schema] of Object.entries(properties)) {
      if (route.pattern.params.includes(name)) continue;
      const array = schema.type === 'array';
      parameters.push({
        name,
        in: 'query',
        required: required.has(name),
        schema,
        ...(array ? { style: 'form', explode: true } : {}),
      });
    }
  }
  return parameters;
}

function requestBodyOf(route: CompiledRoute, input: JsonSchema): unknown {
  if (!route.withBody || route.input.kind === 'void') return undefined;
  let schema = input;
  if (route.pattern.params.length > 0 && route.input.kind === 'object') {
    const { properties, required } = objectParts(input);
    const kept = Object.fromEntries(
      Object.entries(properties).filter(([name]) => !route.pattern.params.includes(name)),
    );
    const stillRequired = [...required].filter((name) => !route.pattern.params.includes(name));
    schema = { ...input, properties: kept, ...(stillRequired.length > 0 ? { required: stillRequired } : {}) };
    if (stillRequired.length === 0) delete schema.required;
  }
  return { required: true, content: { 'application/json': { schema } } };
}

const BUILT_IN: readonly CodedErrorClass[] = [...CORE_ERRORS, ...HTTP_ERRORS];

/** The error codes a route may answer, by status. */
function errorCodesOf(route: CompiledRoute): Map<number, Set<string>> {
  const byStatus = new Map<number, Set<string>>();
  const add = (status: number, code: string) => {
    if (!byStatus.has(status)) byStatus.set(status, new Set());
    byStatus.get(status)!.add(code);
  };
  add(400, 'VALIDATION_FAILED');
  if (route.withBody) {
    add(400, 'MALFORMED_JSON');
    add(413, 'PAYLOAD_TOO_LARGE');
    add(415, 'UNSUPPORTED_MEDIA_TYPE');
  }
  for (const cls of route.contract.errors) add(cls.status, cls.code);
  for (const code of ['NOT_FOUND', 'REMOTE_UNAVAILABLE', 'TIMEOUT', 'INTERNAL']) {
    const cls = BUILT_IN.find((c) => c.code === code)!;
    add(cls.status, cls.code);
  }
  return byStatus;
}

function responsesOf(route: CompiledRoute, components: Record<string, JsonSchema>): Record<string, unknown> {
  const definition = route.contract.methods[route.method]!;
  const output = schemaOf(definition.output, 'output', components);
  const isVoid =
    Object.keys(output).length === 0 &&
    (definition.output as { _zod: { def: { type: string } } })._zod.def.type === 'void';
  const status = route.options.status ?? (isVoid ? 204 : 200);
  const responses: Record<string, unknown> = {
    [String(status)]: isVoid
      ? { description: 'Done.' }
      : { description: 'The result.', content: { 'application/json': { schema: output } } },
  };
  for (const [code, codes] of [...errorCodesOf(route)].sort(([a], [b]) => a - b)) {
    responses[String(code)] = {
      description: `Error: ${[...codes].sort().join(', ')}.`,
      content: { 'application/json': { schema: ERROR_REF } },
    };
  }
  return responses;
}

function operationOf(route: CompiledRoute, components: Record<string, JsonSchema>): Record<string, unknown> {
  const definition = route.contract.methods[route.method]!;
  const input = schemaOf(definition.input, 'input', components);
  const summary = route.options.summary ?? definition.description;
  const requestBody = requestBodyOf(route, input);
  const parameters = parametersOf(route, input);
  return {
    operationId: route.options.operationId ?? route.subject,
    ...(summary === undefined ? {} : { summary }),
    ...(route.options.description === undefined ? {} : { description: route.options.description }),
    tags: [...(route.options.tags ?? [route.contract.name])],
    ...(route.options.deprecated === true ? { deprecated: true } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody === undefined ? {} : { requestBody }),
    responses: responsesOf(route, components),
  };
}

/**
 * The OpenAPI 3.1 document of `routes`. Adapters serve it at `/openapi.json`; call it yourself to write
 * the document to a file or check it in CI.
 *
 * @example
 * await writeFile('openapi.json', JSON.stringify(openApiDocument(routes), null, 2));
 */
export function openApiDocument(routes: Routes, options: OpenApiOptions = {}): OpenApiDocument {
  const components: Record<string, JsonSchema> = { Error: ERROR_SCHEMA };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes.routes) {
    paths[route.pattern.openApiPath] ??= {};
    paths[route.pattern.openApiPath]![route.httpMethod.toLowerCase()] = operationOf(route, components);
  }
  const { title, version, description } = routes.info;
  return {
    openapi: '3.1.0',
    info: description === undefined ? { title, version } : { title, version, description },
    ...(options.servers === undefined ? {} : { servers: options.servers }),
    paths,
    components: { schemas: components },
  };
}
