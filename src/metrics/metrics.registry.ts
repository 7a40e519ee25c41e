import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolStats } from '../db/connect.ts';
import type { BatchObserver } from '../messages/message.batcher.ts';

/** Request durations, in seconds: from 1 ms (a cached read) to 10 s (something is wrong). */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Sends per batch: 1 when idle, up to the batcher's maximum (500) under load. */
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500];
/** Bus lag, in seconds: well under a millisecond in one process, a few over a network. */
const LAG_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What a request that matched no route is counted as: real route patterns start with `/`. */
export const UNMATCHED_ROUTE = 'unmatched';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Counts one route's answers; made once per route when it is registered, called once per response. */
export type RequestRecorder = (method: string, status: number, seconds: number) => void;

/** Where the gauges read the state of what they describe, at scrape time only. */
export interface MetricsSources {
  engine: 'pglite' | 'postgres';
  bus: string;
  pool: () => PoolStats | null;
}

interface Series {
  inc: () => void;
  observe: (seconds: number) => void;
}

let processRegistry: Registry | null = null;

/**
 * The process's own metrics (CPU, memory, heap, event loop, GC, handles): one set per process, however many apps it
 * holds, since they describe the process and collecting them starts observers that live as long as it does. Kept in
 * a registry of their own, never prom-client's global one, and printed before each app's.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * One app's metrics, in a registry of its own: several apps in one process (tests, an application that embeds
 * Parley more than once) never share or clash. The hot path only increments label children made ahead of time.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly durations: Histogram<'method' | 'route' | 'status_class'>;
  private readonly sends: Counter<'result'>;
  private readonly batchSizes: Histogram;
  private readonly batchDurations: Histogram;
  private readonly busLag: Histogram<'bus'>;
  private readonly searchDelay: Histogram;
  private readonly searchIndexed: Counter;
  private streamCounts: (() => { ws: number; sse: number }) | null = null;
  private sendQueue: (() => { queued: number; writing: number }) | null = null;

  constructor(private readonly sources: MetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'parley_info',
      help: 'Always 1; the labels say which database engine and event bus this process uses.',
      labelNames: ['engine', 'bus'],
      registers,
    }).set({ engine: sources.engine, bus: sources.bus }, 1);
    this.requests = new Counter({
      name: 'parley_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.durations = new Histogram({
      name: 'parley_http_request_duration_seconds',
      help: 'Time from receiving a request to finishing its answer, by method, route pattern and status class.',
      labelNames: ['method', 'route', 'status_class'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.sends = new Counter({
      name: 'parley_sends_total',
      help:
        'Sends handed to the group commit, by result: written; skipped (not written: not a member, bad reply, or a ' +
        'clientId sent before, answered with its first message); failed (the batch statement failed).',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['written', 'skipped', 'failed']) {
      this.sends.inc({ result }, 0);
    }
    this.batchSizes = new Histogram({
      name: 'parley_send_batch_size',
      help: 'Sends per group-commit batch.',
      buckets: BATCH_SIZE_BUCKETS,
      registers,
    });
    this.batchDurations = new Histogram({
      name: 'parley_send_batch_duration_seconds',
      help: "Time a group-commit batch's statement took, round trip and commit included.",
      buckets: REQUEST_BUCKETS,
      registers,
    });
    const batcher = () => this.sendQueue?.() ?? { queued: 0, writing: 0 };
    new Gauge({
      name: 'parley_send_queue_length',
      help: 'Sends waiting for the next group-commit batch.',
      registers,
      collect() {
        this.set(batcher().queued);
      },
    });
    new Gauge({
      name: 'parley_send_batches_in_flight',
      help: 'Group-commit batches being written.',
      registers,
      collect() {
        this.set(batcher().writing);
      },
    });
    const streams = () => this.streamCounts?.() ?? { ws: 0, sse: 0 };
    new Gauge({
      name: 'parley_stream_connections',
      help: 'Open real-time stream connections, by transport (ws: WebSocket, sse: Server-Sent Events).',
      labelNames: ['transport'],
      registers,
      collect() {
        const counts = streams();
        this.set({ transport: 'ws' }, counts.ws);
        this.set({ transport: 'sse' }, counts.sse);
      },
    });
    this.busLag = new Histogram({
      name: 'parley_bus_lag_seconds',
      help: 'Time from an event being published (on any process) to its arrival from the bus on this process.',
      labelNames: ['bus'],
      buckets: LAG_BUCKETS,
      registers,
    });
    this.busLag.zero({ bus: sources.bus });
    this.searchDelay = new Histogram({
      name: 'parley_search_index_delay_seconds',
      help: 'For each background indexing pass: how long the oldest message it indexed had waited since its change.',
      buckets: [...LAG_BUCKETS, 5, 10, 30],
      registers,
    });
    this.searchIndexed = new Counter({
      name: 'parley_search_indexed_total',
      help: 'Message changes the background search indexer of this process has indexed.',
      registers,
    });
    this.busDelivered = this.busLag.labels({ bus: sources.bus }).observe;
    this.unmatched = this.requestRecorder(UNMATCHED_ROUTE);
    this.poolGauges();
  }

  /**
   * How the history cache does: pages served from it, read from the database, or got from a read another request
   * asked for (concurrent misses share one), and the memory it holds.
   */
  countHistoryCache(cache: { hits: number; misses: number; shared: number; sizeBytes: number }): void {
    new Counter({
      name: 'parley_history_cache_requests_total',
      help:
        'History pages asked for, by result: hit (served from the cache, the chat unchanged), miss (read from the ' +
        'database), shared (joined a read another request asked for).',
      labelNames: ['result'],
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, cache.hits);
        this.inc({ result: 'miss' }, cache.misses);
        this.inc({ result: 'shared' }, cache.shared);
      },
    });
    new Gauge({
      name: 'parley_history_cache_bytes',
      help: 'Memory the history cache holds, roughly, against PARLEY_HISTORY_CACHE_MB.',
      registers: [this.registry],
      collect() {
        this.set(cache.sizeBytes);
      },
    });
  }

  /** The pool's gauges, only when the pool can be seen (not for a Kysely instance of the host application's). */
  private poolGauges(): void {
    if (this.sources.pool() === null) {
      return;
    }
    const pool = this.sources.pool;
    const gauge = (name: string, help: string, read: (stats: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const stats = pool();
          if (stats) {
            this.set(read(stats));
          }
        },
      });
    gauge('parley_db_pool_connections', 'Database connections open (busy or idle).', (s) => s.total);
    gauge('parley_db_pool_idle_connections', 'Database connections open and idle.', (s) => s.idle);
    gauge(
      'parley_db_pool_waiting_clients',
      'Queries waiting for a database connection (on PGlite: queued behind its one connection).',
      (s) => s.waiting,
    );
    gauge('parley_db_pool_max_connections', 'The most connections the pool opens.', (s) => s.max);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The process's metrics, then this app's, in the Prometheus text format. */
  async render(): Promise<string> {
    const [processText, appText] = await Promise.all([processMetrics().metrics(), this.registry.metrics()]);
    return `${processText}\n${appText}`;
  }

  /**
   * A recorder for one route pattern. Label children are made on first use of each method and status and kept, so
   * a response costs two map lookups and prom-client's own increment.
   */
  requestRecorder(route: string): RequestRecorder {
    const byMethod = new Map<string, Map<number, Series>>();
    return (method, status, seconds) => {
      let byStatus = byMethod.get(method);
      if (byStatus === undefined) {
        byStatus = new Map();
        byMethod.set(method, byStatus);
      }
      let series = byStatus.get(status);
      if (series === undefined) {
        series = this.series(method, route, status, byStatus);
        byStatus.set(status, series);
      }
      series.inc();
      series.observe(seconds);
    };
  }

  private series(method: string, route: string, status: number, siblings: Map<number, Series>): Series {
    const statusClass = STATUS_CLASSES[Math.floor(status / 100) - 1] ?? 'other';
    // Statuses of one class share the duration series.
    let observe: ((seconds: number) => void) | undefined;
    for (const [other, series] of siblings) {
      if (Math.floor(other / 100) === Math.floor(status / 100)) {
        observe = series.observe;
        break;
      }
    }
    const counter = this.requests.labels({ method, route, status: String(status) });
    return {
      inc: () => counter.inc(),
      observe: observe ?? this.durations.labels({ method, route, status_class: statusClass }).observe,
    };
  }

  /** Requests no route matched: all under one label, whatever their URL. */
  readonly unmatched: RequestRecorder;

  readonly sendBatch: BatchObserver = ({ size, seconds, written, failed }) => {
    this.batchSizes.observe(size);
    this.batchDurations.observe(seconds);
    if (failed) {
      this.sends.inc({ result: 'failed' }, size);
      return;
    }
    this.sends.inc({ result: 'written' }, written);
    if (size > written) {
      this.sends.inc({ result: 'skipped' }, size - written);
    }
  };

  /** Seconds from an event's publication to its arrival here. */
  readonly busDelivered: (seconds: number) => void;

  /** A background search indexing pass (`SearchIndexer`). */
  readonly searchIndexing = ({ taken, waited }: { taken: number; waited: number }): void => {
    this.searchDelay.observe(waited);
    this.searchIndexed.inc(taken);
  };

  /** The stream routes say how many connections they hold, read at scrape time. */
  countStreams(counts: () => { ws: number; sse: number }): void {
    this.streamCounts = counts;
  }

  /** The group commit says how many sends wait and how many batches are being written, read at scrape time. */
  countSendQueue(counts: () => { queued: number; writing: number }): void {
    this.sendQueue = counts;
  }
}
