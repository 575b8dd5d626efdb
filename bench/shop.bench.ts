/**
 * The shop written by hand (Fastify + better-sqlite3, no Blueprint: the baseline), as a monolith (one
 * `blueprint start` process) and split (four processes over http RPC and Redis), all as real child
 * processes in the same run, loaded with autocannon: throughput, latency, CPU per 1,000 requests of all
 * the shop's processes, peak RSS, the monolith/hand ratios (target: at least 0.9x the requests/s) and the
 * monolith/split ratios.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { startRedis } from '../test/harness/index.js';
import {
  clockTicksPerSecond,
  cpuTicks,
  peakRss,
  type RunningShop,
  type ShopName,
  startHandShop,
  startShop,
} from './fixtures/shop-topology.js';
import {
  formatBytes,
  formatNs,
  formatOps,
  formatRatio,
  formatTable,
  printSection,
  progress,
  type Row,
  section,
  verdict,
} from './lib.js';

/** Requests in flight (the target for the hand-written baseline is at 32). */
const CONNECTIONS = 32;
/** One warmup per endpoint, of the three shops at once. */
const WARMUP_S = 0.75;
/** Each case is measured in {@link ROUNDS} rounds of {@link ROUND_S}, interleaved A B C C B A. */
const ROUNDS = 2;
const ROUND_S = 1;
/** autocannon's sample interval in ms: a run stops at its first sample after its duration. */
const SAMPLE_MS = 100;

/** The target: the monolith serves at least this share of the hand-written shop's requests/s. */
const HAND_TARGET = 0.9;
/** Seeded stock of every product: a run places far more orders than the shop's default catalog holds. */
const STOCK = 1_000_000;
const QUIET_WINDOW_MS = 300;
const QUIET_TICKS = 2;

interface Endpoint {
  readonly key: 'get' | 'post';
  readonly label: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
}

const GET_PRODUCT: Endpoint = {
  key: 'get',
  label: 'GET /products/p-keyboard',
  method: 'GET',
  path: '/products/p-keyboard',
};
const POST_ORDER: Endpoint = {
  key: 'post',
  label: 'POST /orders',
  method: 'POST',
  path: '/orders',
  body: JSON.stringify({ productId: 'p-cable', quantity: 1 }),
};

/** One shop and endpoint, summed over its rounds. */
interface CaseResult {
  readonly topology: ShopName;
  readonly endpoint: Endpoint;
  readonly latency: RecordableHistogram;
  seconds: number;
  non2xx: number;
  errors: number;
  readonly statuses: Map<string, number>;
  cpuTicks: number;
  redisTicks: number;
  drainMs: number;
}

const clockTicks = clockTicksPerSecond();
const redis = await startRedis();
const shops: Partial<Record<ShopName, RunningShop>> = {};
const results: CaseResult[] = [];
const peaks: { name: string; bytes: number }[] = [];
const started = performance.now();

try {
  // The hand-written shop and the monolith are one process each: they start side by side.
  progress('starting the shop written by hand and the monolith (1 process each)');
  const starting = await Promise.allSettled([
    startHandShop({ stock: STOCK }),
    startShop('monolith', { redisUrl: redis.url, stock: STOCK }),
  ]);
  for (const outcome of starting)
    if (outcome.status === 'fulfilled') shops[outcome.value.topology] = outcome.value;
  for (const outcome of starting) if (outcome.status === 'rejected') throw outcome.reason;
  progress('starting the split topology (4 processes, products twice)');
  shops.split = await startShop('split', { redisUrl: redis.url, stock: STOCK });
  progress(`all three shops ready after ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const plan: [Endpoint, ShopName[]][] = [
    [GET_PRODUCT, ['hand', 'monolith', 'split', 'split', 'monolith', 'hand']],
    [POST_ORDER, ['split', 'monolith', 'hand', 'hand', 'monolith', 'split']],
  ];
  for (const [endpoint, order] of plan) {
    // One warmup for the three shops at once (each gets a third of the machine), then each drains.
    const all = [shops.hand!, shops.monolith!, shops.split!];
    progress(`all three shops: ${endpoint.label}, warmup ${WARMUP_S} s at once`);
    await Promise.all(all.map((shop) => load(shop, endpoint, WARMUP_S)));
    await Promise.all(all.map((shop) => drain(shop, endpoint)));
    for (const topology of order) {
      const shop = shops[topology]!;
      let result = results.find((r) => r.topology === topology && r.endpoint === endpoint);
      if (result === undefined) {
        result = {
          topology,
          endpoint,
          latency: createHistogram(),
          seconds: 0,
          non2xx: 0,
          errors: 0,
          statuses: new Map(),
          cpuTicks: 0,
          redisTicks: 0,
          drainMs: 0,
        };
        results.push(result);
      }
      progress(`${topology}: ${endpoint.label}, ${CONNECTIONS} connections, ${ROUND_S} s`);
      await measureRound(shop, result);
    }
  }

  for (const shop of [shops.hand, shops.monolith, shops.split]) {
    for (const p of shop!.processes)
      peaks.push({ name: `${shop!.topology} · ${p.name}`, bytes: peakRss(p.pid) });
  }
  peaks.push({ name: 'split · redis-server', bytes: peakRss(redis.pid) });
} finally {
  await Promise.all([shops.hand?.stop(), shops.monolith?.stop(), shops.split?.stop()]);
  await redis.stop();
}

/** Loads one endpoint for {@link ROUND_S}, waits for the work to drain, and adds the CPU every process spent. */
async function measureRound(shop: RunningShop, into: CaseResult): Promise<void> {
  const pids = shop.processes.map((p) => p.pid);
  const before = pids.map(cpuTicks);
  const redisBefore = cpuTicks(redis.pid);
  const run = await load(shop, into.endpoint, ROUND_S);
  const drainStarted = performance.now();
  await drain(shop, into.endpoint);
  into.drainMs = Math.max(into.drainMs, performance.now() - drainStarted);
  into.cpuTicks += pids.reduce((sum, pid, i) => sum + cpuTicks(pid) - before[i]!, 0);
  into.redisTicks += cpuTicks(redis.pid) - redisBefore;
  into.latency.add(run.latency);
  into.seconds += run.seconds;
  into.non2xx += run.non2xx;
  into.errors += run.errors;
  for (const [code, count] of run.statuses) into.statuses.set(code, (into.statuses.get(code) ?? 0) + count);
}

/** One autocannon run; latency is recorded per response from its hrtime-based `responseTime`. */
async function load(shop: RunningShop, endpoint: Endpoint, seconds: number) {
  const latency = createHistogram();
  const instance = autocannon({
    url: `${shop.baseUrl}${endpoint.path}`,
    connections: CONNECTIONS,
    duration: seconds,
    sampleInt: SAMPLE_MS,
    method: endpoint.method,
    ...(endpoint.body === undefined
      ? {}
      : { body: endpoint.body, headers: { 'content-type': 'application/json' } }),
  });
  instance.on('response', (_client, _status, _bytes, ms) =>
    latency.record(Math.max(1, Math.round(ms * 1e6))),
  );
  const result = await instance;
  return {
    latency,
    seconds: result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    statuses: new Map(
      Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, Number(count)]),
    ),
  };
}

/**
 * Waits until the topology has finished the work the run started: for orders, a sentinel order placed
 * after the run has left `pending` (payments handled everything queued before it); then until the
 * processes are idle (at most {@link QUIET_TICKS} clock ticks in {@link QUIET_WINDOW_MS}).
 */
async function drain(shop: RunningShop, endpoint: Endpoint): Promise<void> {
  const deadline = performance.now() + 30_000;
  if (endpoint.key === 'post') {
    const placed = await fetch(`${shop.baseUrl}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: endpoint.body ?? '',
    });
    const order = (await placed.json()) as { id?: string; status?: string };
    if (placed.status !== 201 || order.id === undefined) {
      throw new Error(
        `${shop.topology}: the sentinel order answered ${placed.status}: ${JSON.stringify(order)}`,
      );
    }
    let status = order.status;
    while (status === 'pending') {
      if (performance.now() > deadline)
        throw new Error(`${shop.topology}: order ${order.id} still pending after 30 s`);
      await sleep(50);
      status = ((await (await fetch(`${shop.baseUrl}/orders/${order.id}`)).json()) as { status?: string })
        .status;
    }
  }
  const total = () => shop.processes.reduce((sum, p) => sum + cpuTicks(p.pid), 0);
  for (let last = total(); performance.now() < deadline; ) {
    await sleep(QUIET_WINDOW_MS);
    const now = total();
    if (now - last <= QUIET_TICKS) return;
    last = now;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const requestsOf = (r: CaseResult) => r.latency.count;
const perSecondOf = (r: CaseResult) => r.latency.count / r.seconds;
const cpuSecondsOf = (r: CaseResult) => r.cpuTicks / clockTicks;
const cpuPerThousandOf = (r: CaseResult) => (cpuSecondsOf(r) / requestsOf(r)) * 1_000;
const redisPerThousandOf = (r: CaseResult) => (r.redisTicks / clockTicks / requestsOf(r)) * 1_000;
const statusesOf = (r: CaseResult) =>
  [...r.statuses].map(([code, count]) => `${code}: ${count}`).join(', ') || 'none';

function find(topology: ShopName, key: Endpoint['key']): CaseResult {
  return results.find((r) => r.topology === topology && r.endpoint.key === key)!;
}

const HAND_LABEL = 'shop written by hand (Fastify + better-sqlite3)';
const labelOf = (topology: ShopName) => (topology === 'hand' ? HAND_LABEL : topology);

/** The rows by endpoint, the baseline (by hand) first. */
const ordered = [GET_PRODUCT, POST_ORDER].flatMap((endpoint) =>
  (['hand', 'monolith', 'split'] as const).map((topology) => find(topology, endpoint.key)),
);
const caseRows: Row[] = ordered.map((r) => ({
  case: `${labelOf(r.topology)} · ${r.endpoint.label}`,
  'req/s': formatOps(perSecondOf(r)),
  p50: formatNs(r.latency.percentile(50)),
  p99: formatNs(r.latency.percentile(99)),
  requests: requestsOf(r).toLocaleString('en-US'),
  'non-2xx': r.non2xx,
  errors: r.errors,
  'CPU s': cpuSecondsOf(r).toFixed(2),
  'CPU s / 1k req': cpuPerThousandOf(r).toFixed(3),
  target: '—',
  verdict: 'info',
}));

const handRatioRows: Row[] = [GET_PRODUCT, POST_ORDER].map((endpoint) => {
  const mono = find('monolith', endpoint.key);
  const hand = find('hand', endpoint.key);
  const throughput = perSecondOf(mono) / perSecondOf(hand);
  return {
    case: `${endpoint.label}: monolith / by hand`,
    throughput: formatRatio(throughput),
    p50: formatRatio(mono.latency.percentile(50) / hand.latency.percentile(50)),
    p99: formatRatio(mono.latency.percentile(99) / hand.latency.percentile(99)),
    'CPU / 1k req': formatRatio(cpuPerThousandOf(mono) / cpuPerThousandOf(hand)),
    target: `≥ ${HAND_TARGET}x req/s at ${CONNECTIONS} in flight`,
    verdict: verdict(throughput >= HAND_TARGET),
  };
});

const splitRatioRows: Row[] = [GET_PRODUCT, POST_ORDER].map((endpoint) => {
  const mono = find('monolith', endpoint.key);
  const split = find('split', endpoint.key);
  return {
    case: `${endpoint.label}: monolith / split`,
    throughput: formatRatio(perSecondOf(mono) / perSecondOf(split)),
    p50: formatRatio(mono.latency.percentile(50) / split.latency.percentile(50)),
    p99: formatRatio(mono.latency.percentile(99) / split.latency.percentile(99)),
    'CPU / 1k req': formatRatio(cpuPerThousandOf(mono) / cpuPerThousandOf(split)),
    'CPU / 1k req, Redis included': formatRatio(
      cpuPerThousandOf(mono) / (cpuPerThousandOf(split) + redisPerThousandOf(split)),
    ),
    target: 'report only',
    verdict: 'info',
  };
});

const splitRss = peaks.filter((p) => p.name.startsWith('split · ') && !p.name.endsWith('redis-server'));
const splitRssTotal = splitRss.reduce((sum, p) => sum + p.bytes, 0);
const monoRss = peaks.find((p) => p.name === 'monolith · main')!;
const rssRows: Row[] = [
  ...peaks.map(({ name, bytes }) => ({
    case: name,
    'peak RSS (VmHWM)': formatBytes(bytes),
    target: '—',
    verdict: 'info',
  })),
  {
    case: 'split · 5 node processes together',
    'peak RSS (VmHWM)': formatBytes(splitRssTotal),
    target: '—',
    verdict: 'info',
  },
];

const handNotes = [GET_PRODUCT, POST_ORDER].map((endpoint) => {
  const mono = find('monolith', endpoint.key);
  const hand = find('hand', endpoint.key);
  return `${endpoint.label}: the monolith serves ${formatRatio(perSecondOf(mono) / perSecondOf(hand))} of the hand-written shop's requests/s (${formatOps(perSecondOf(mono))} vs ${formatOps(perSecondOf(hand))}) at ${formatRatio(mono.latency.percentile(50) / hand.latency.percentile(50))} its p50, spending ${formatRatio(cpuPerThousandOf(mono) / cpuPerThousandOf(hand))} the CPU per request (${cpuPerThousandOf(mono).toFixed(3)} vs ${cpuPerThousandOf(hand).toFixed(3)} CPU s per 1,000 requests). Status codes: by hand ${statusesOf(hand)}.`;
});
const notes = [GET_PRODUCT, POST_ORDER].map((endpoint) => {
  const mono = find('monolith', endpoint.key);
  const split = find('split', endpoint.key);
  return `${endpoint.label}: split serves ${formatRatio(perSecondOf(split) / perSecondOf(mono))} of the monolith's requests/s at ${formatRatio(split.latency.percentile(50) / mono.latency.percentile(50))} its p50, and its processes spend ${formatRatio(cpuPerThousandOf(split) / cpuPerThousandOf(mono))} the CPU per request (${cpuPerThousandOf(split).toFixed(3)} vs ${cpuPerThousandOf(mono).toFixed(3)} CPU s per 1,000 requests); Redis adds ${redisPerThousandOf(split).toFixed(3)} CPU s per 1,000 requests (${(split.redisTicks / clockTicks).toFixed(2)} s). Status codes: monolith ${statusesOf(mono)}; split ${statusesOf(split)}.`;
});
const splitOrders = find('split', 'post');
const handOrders = find('hand', 'post');
const handRss = peaks.find((p) => p.name === 'hand · main')!;
notes.unshift(
  `The baseline (\`bench/fixtures/shop-by-hand.ts\`): what a user would write by hand for these two endpoints with Fastify, better-sqlite3 and zod, one process and one database file with the shop's settings (WAL, \`synchronous = NORMAL\`): the shop's input schemas, status codes and JSON bodies; the product from a 30 s in-memory cache, else one SELECT; an order's stock taken and the order stored as \`pending\` in one IMMEDIATE transaction, answered 201, then paid in a \`setImmediate\` job (payment row and \`paid\` in one transaction), as the shop pays in reaction to \`order.placed\`. What it does not have: the shop's database per service (so a reservation row and a second transaction per order), its outbox (pending orders are found again at start instead), its http edge's request log, metrics, span and correlation id per request, and \`serialize: true\` copies between services. Its drain is the same: the sentinel order answers \`pending\` and leaves it once every payment queued before it ran (up to ${(handOrders.drainMs / 1000).toFixed(1)} s after a round).`,
  ...handNotes,
);
notes.push(
  `Memory: the hand-written shop peaks at ${formatBytes(handRss.bytes)}, the monolith at ${formatBytes(monoRss.bytes)}; the five split processes at ${formatBytes(splitRssTotal)} together (${formatRatio(splitRssTotal / monoRss.bytes)}), plus Redis.`,
  `Orders: every product is seeded with ${STOCK.toLocaleString('en-US')} in stock (the shop's own migration with a larger stock, written to the fresh DATA_DIR before start) so no measured order runs short; with the default catalog (p-cable: 1,000) orders would answer 409 within a second or two. After each split order round, the pipeline (order.placed → payments → payment.succeeded over Redis streams) took up to ${(splitOrders.drainMs / 1000).toFixed(1)} s to drain (a sentinel order reaching \`paid\`, then idle processes); that work is in the CPU figures.`,
  `${CONNECTIONS} connections for every case (the issue's target is at 32 in flight; monolith vs split was measured at 16 before the baseline came); per endpoint a ${WARMUP_S} s warmup of the three shops at once (then each drains), then per shop ${ROUNDS} rounds of ${ROUND_S} s interleaved (reads: by hand, monolith, split, split, monolith, by hand; orders: split, monolith, by hand, by hand, monolith, split), all three shops running the whole time. autocannon runs in the bench process and shares the 2 cores with the servers (and with whatever else runs on the machine), so requests/s is what is left for client and servers together; CPU per request is the steadier figure: utime+stime from /proc/<pid>/stat of the topology's processes only (${clockTicks} ticks/s), from the start of a round until its work has drained.`,
);

printSection(
  section(
    'Shop: the monolith vs the shop written by hand, and the cost of splitting',
    'What is measured: the shop written by hand with Fastify + better-sqlite3 + zod and no Blueprint (the baseline: one process doing the same job for the two endpoints), and the examples/shop app started through `blueprint start` from the built packages, as a monolith (one process: `local` RPC with `serialize: true`, memory events and cache) and split (gateway, products, orders, payments: `http` RPC with breaker/timeout/retry policies, `redis-streams` events, `tiered` cache over a private Redis), each with a fresh SQLite DATA_DIR. autocannon 8 loads the gateway with `GET /products/p-keyboard` (a cached read) and `POST /orders` `{"productId":"p-cable","quantity":1}` (reserve stock, store, publish `order.placed`, pay). Per case: requests/s, latency p50/p99 (per response, hrtime), non-2xx responses, and the CPU seconds all the shop\'s processes spend per 1,000 requests; then the monolith/by-hand ratios (the target), the monolith/split ratios and each process\'s peak RSS.',
    [formatTable(caseRows), formatTable([...handRatioRows, ...splitRatioRows]), formatTable(rssRows)].join(
      '\n\n',
    ),
    notes,
  ),
);
progress(`shop bench done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
