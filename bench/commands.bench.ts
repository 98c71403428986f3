/**
 * What one budget command costs as a session's budget stream grows, with command-api's folded
 * stream states kept between commands and without (`NEXUS_AGGREGATE_CACHE_STREAMS=0`).
 *
 *   node --import @swc-node/register/esm-register bench/commands.bench.ts
 *
 * A session charged through `/v1/chat/completions` or by long agent runs gains two budget events
 * per LLM call (reserved, consumed). For each history size (BENCH_HISTORY, default 0,1000,4000
 * events) it builds one budget stream, then times BENCH_CALLS (default 200) reserve + consume
 * pairs through `CommandHandlingService` in process — the first command of each pair loads the
 * stream (the cached service's first load folds it all); the re-folding service runs second, on a
 * stream longer by the first one's pairs. Baseline: single-event appends with
 * `PostgresEventStore` in process, on the same durable throwaway PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { CommandHandlingService } from '../apps/command-api/src/command-handling/command-handling.service';
import { budgetDecider, toBudgetStreamId } from '../libs/domain/src/index';
import { createPgExecutor, migrate, PostgresEventStore } from '../libs/event-store/src/index';
import type { Actor, BudgetCommand, EventMetadata } from '../libs/events/src/index';
import { createTestDatabase, startPostgres } from '../libs/testing/src/infra/index';
import { appendLatencies } from './support/bench-event';
import { fixed, percentile, printTable } from './support/report';

const histories = (process.env['BENCH_HISTORY'] ?? '0,1000,4000').split(',').map(Number);
const calls = Number(process.env['BENCH_CALLS'] ?? 200);
const actor: Actor = { userId: 'bench', roles: ['user'], tenantId: 'bench' };
const metadata: EventMetadata = { actor, correlationId: randomUUID(), causationId: null, traceparent: null, ip: null, userAgent: null, idempotencyKey: null };
const at = () => new Date().toISOString();
const amount = { tokens: 100, costMicroUsd: 10, wallClockSeconds: 0 };

const command = (service: CommandHandlingService, cmd: BudgetCommand) =>
  service.handle([{ streamId: toBudgetStreamId(cmd.data.sessionId), decider: budgetDecider, command: cmd }], metadata);

/** One LLM call's budget commands: reserve, then consume at "actual" usage. */
async function charge(service: CommandHandlingService, sessionId: string): Promise<void> {
  const reservationId = randomUUID();
  await command(service, { type: 'ReserveBudget', data: { sessionId, reservationId, amount, purpose: 'bench', runId: null, ttlSeconds: 600, actor, at: at() } });
  await command(service, { type: 'ConsumeReservation', data: { sessionId, reservationId, amount, actor, at: at() } });
}

const postgres = await startPostgres({ durable: true });
const sql = createPgExecutor(await createTestDatabase(postgres.url, 'nexus_commands_bench'), { max: 2 });
try {
  await migrate(sql);
  const store = new PostgresEventStore(sql);
  const rows: string[][] = [];
  for (const history of histories) {
    const sessionId = randomUUID();
    const builder = new CommandHandlingService(store, { NEXUS_AGGREGATE_CACHE_STREAMS: 10 });
    const limit = { tokens: 1e12, costMicroUsd: 1e12, wallClockSeconds: 1e9 };
    await command(builder, { type: 'AllocateBudget', data: { sessionId, tenantId: 'bench', limit, actor, at: at() } });
    for (let n = 1; n < history; n += 2) await charge(builder, sessionId);
    for (const [label, streams] of [['kept', 10_000], ['re-folded', 0]] as const) {
      const service = new CommandHandlingService(store, { NEXUS_AGGREGATE_CACHE_STREAMS: streams });
      const latencies: number[] = [];
      for (let n = 0; n < calls; n += 1) {
        const started = performance.now();
        await charge(service, sessionId);
        latencies.push((performance.now() - started) / 2);
      }
      rows.push([`${history} events, states ${label}`, String(calls * 2), fixed(percentile(latencies, 50), 2), fixed(percentile(latencies, 99), 2)]);
    }
  }
  const baseline = await appendLatencies(postgres.url, calls * 2);
  rows.push(['baseline: one in-process append', String(baseline.length), fixed(percentile(baseline, 50), 2), fixed(percentile(baseline, 99), 2)]);
  console.log(`budget commands (reserve, consume) per history size; ms per command`);
  printTable(['stream', 'commands', 'p50 ms', 'p99 ms'], rows);
} finally {
  await sql.close();
  await postgres.stop();
}
