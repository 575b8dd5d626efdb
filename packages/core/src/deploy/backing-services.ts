// biome-ignore-all lint/suspicious/noTemplateCurlyInString: messages show the topology's own ${VAR} syntax
/**
 * The servers a topology's sections need besides the app's processes: Redis for `redis-streams` events
 * and `redis`/`tiered` caches, NATS (JetStream) for `nats` events, Kafka for `kafka` events, Memcached
 * for a `memcached` cache. Sections that name the same URL share one server; a server that holds
 * events keeps them on disk.
 */
import type { TopologyIssue } from '../topology.js';
import { wholeReference } from './variables.js';

/** The kinds of backing servers. */
export type BackingKind = 'redis' | 'nats' | 'kafka' | 'memcached';

/** A server the topology's sections connect to. */
export interface BackingService {
  /** Its name in a Compose file: `redis`, or `redis-events` and `redis-cache` for two Redis servers. */
  readonly name: string;
  /** What it is. */
  readonly kind: BackingKind;
  /** The topology sections that use it, e.g. `["events", "cache"]`. */
  readonly sections: readonly string[];
  /**
   * True when it holds events, which must survive a restart: Redis with AOF (`appendfsync everysec`)
   * and `noeviction`, NATS with JetStream file storage, Kafka's log. A cache-only server keeps nothing.
   */
  readonly persistent: boolean;
  /** The variable the topology reads its URL from, e.g. `REDIS_URL`. */
  readonly variable: string;
  /** The port it listens on. */
  readonly port: number;
  /** Its URL inside a Compose network, e.g. `redis://redis:6379`. */
  readonly composeUrl: string;
  /** Its URL on a laptop, e.g. `redis://127.0.0.1:6379`: what the topology is validated with for export. */
  readonly loopbackUrl: string;
}

/** How a section `type` maps to a backing server. */
interface BackingRule {
  readonly section: string;
  readonly type: string;
  readonly kind: BackingKind;
  readonly holdsEvents: boolean;
}

/**
 * The drivers that need a server. Drivers of other packages are named here by their `type`, since core
 * cannot import them; a section whose driver is not listed (`memory`, or your own) needs none.
 */
const RULES: readonly BackingRule[] = [
  { section: 'events', type: 'redis-streams', kind: 'redis', holdsEvents: true },
  { section: 'events', type: 'nats', kind: 'nats', holdsEvents: true },
  { section: 'events', type: 'kafka', kind: 'kafka', holdsEvents: true },
  { section: 'cache', type: 'redis', kind: 'redis', holdsEvents: false },
  { section: 'cache', type: 'tiered', kind: 'redis', holdsEvents: false },
  { section: 'cache', type: 'memcached', kind: 'memcached', holdsEvents: false },
];

/** The keys a section names its server with. */
const URL_KEYS = ['url', 'brokers', 'servers'] as const;

const PORTS: Readonly<Record<BackingKind, { port: number; scheme: string }>> = {
  redis: { port: 6379, scheme: 'redis' },
  nats: { port: 4222, scheme: 'nats' },
  kafka: { port: 9092, scheme: '' },
  memcached: { port: 11211, scheme: '' },
};

interface Use {
  readonly rule: BackingRule;
  readonly variable: string;
  readonly section: string;
}

function useOf(
  raw: Readonly<Record<string, unknown>>,
  rule: BackingRule,
  issues: TopologyIssue[],
): Use | undefined {
  const section = raw[rule.section];
  if (typeof section !== 'object' || section === null) return undefined;
  const entry = section as Record<string, unknown>;
  if (entry.type !== rule.type) return undefined;
  const key = URL_KEYS.find((candidate) => entry[candidate] !== undefined) ?? 'url';
  const value = entry[key];
  const reference = wholeReference(value);
  if (reference === undefined) {
    const upper = rule.kind.toUpperCase();
    issues.push({
      path: `topology.${rule.section}.${key}`,
      message: `${value === undefined ? 'not given' : JSON.stringify(value)}; a deployment points it at its own ${rule.kind} server, so read it from one variable: "${key}": "\${${upper}_URL:-${defaultUrl(rule.kind)}}"`,
    });
    return undefined;
  }
  return { rule, variable: reference.name, section: rule.section };
}

function defaultUrl(kind: BackingKind): string {
  const { port, scheme } = PORTS[kind];
  return `${scheme === '' ? '' : `${scheme}://`}127.0.0.1:${port}`;
}

/**
 * The backing servers of a raw topology (as written, before interpolation). Sections reading their URL
 * from the same variable share a server. A section whose server address is not one variable (a
 * deployment must be able to point it elsewhere) is added to `issues`.
 */
export function backingServices(
  raw: Readonly<Record<string, unknown>>,
  issues: TopologyIssue[] = [],
): BackingService[] {
  const uses = RULES.map((rule) => useOf(raw, rule, issues)).filter((use): use is Use => use !== undefined);
  const groups = new Map<string, Use[]>();
  for (const use of uses) groups.set(use.variable, [...(groups.get(use.variable) ?? []), use]);
  const perKind = (kind: BackingKind) => [...groups.values()].filter((group) => group[0]!.rule.kind === kind);
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    const kind = first.rule.kind;
    const sections = group.map((use) => use.section);
    const name = perKind(kind).length > 1 ? `${kind}-${sections.join('-')}` : kind;
    const { port, scheme } = PORTS[kind];
    return {
      name,
      kind,
      sections,
      persistent: group.some((use) => use.rule.holdsEvents),
      variable: first.variable,
      port,
      composeUrl: `${scheme === '' ? '' : `${scheme}://`}${name}:${port}`,
      loopbackUrl: defaultUrl(kind),
    };
  });
}
