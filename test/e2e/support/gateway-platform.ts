import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadConfig } from '@nexus/config';
import { openDatabase, PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import type { BudgetConsumed, BudgetReservationAdjusted, BudgetReserved } from '@nexus/events';
import { freshTestDatabase } from '@nexus/testing';
import { commandSenderOf, createCommandApi } from '../../../apps/command-api/src/command-api.bootstrap';
import { BudgetLeases } from '../../../apps/llm-gateway/src/budget-lease/budget-leases';
import { createLlmGateway } from '../../../apps/llm-gateway/src/llm-gateway.bootstrap';
import { keyOf } from './api-client';

export interface GatewayPlatform {
  readonly commandUrl: string;
  readonly gatewayUrl: string;
  readonly sql: SqlExecutor;
  /** A session of alice's with this many tokens. */
  startSession(tokens: number): Promise<string>;
  /**
   * The session's budget stream once the gateway's leases are settled: event types, reservations
   * (the gateway's leases), consumptions, and the tokens charged in all (consumptions and lease
   * heartbeats).
   */
  budgetEvents(sessionId: string): Promise<{
    types: string[];
    reserved: BudgetReserved['data'][];
    consumed: BudgetConsumed['data'][];
    charged: { tokens: number; costMicroUsd: number };
  }>;
  /** Settles the gateway's budget leases now, as it does when they go idle: their usage lands on the budget stream. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The llm-gateway with a real command-api in the same process (as `nexus start` runs them)
 * holding the session budgets, on a fresh database. The gateway builds its providers from the
 * environment when it starts: `providers` become NEXUS_LLM_PROVIDERS (no retries, so provider
 * failures show at once) until `close` puts the environment back; so does any other `env` given
 * (`NEXUS_LLM_MODEL_ALIASES`, …).
 */
export async function startGatewayPlatform(
  name: string,
  providers: readonly { name: string; baseUrl: string; models: string[] }[],
  env: Readonly<Record<string, string>> = {},
): Promise<GatewayPlatform> {
  const savedEnv = { ...process.env };
  process.env['NEXUS_LLM_PROVIDERS'] = JSON.stringify(providers);
  process.env['NEXUS_LLM_MAX_RETRIES'] = '0';
  Object.assign(process.env, env);
  const config = loadConfig({
    DATABASE_URL: await freshTestDatabase(name),
    NEXUS_LOG_LEVEL: 'silent',
    NEXUS_LLM_MAX_TOKENS: '256',
    NEXUS_ALLOW_DEV_KEYS: 'true',
  });
  const sql = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir, poolSize: 4 });
  const commandApp = await createCommandApi(config, { sql });
  await commandApp.listen(0, '127.0.0.1');
  const gateway = await createLlmGateway(config, { sql, commandSender: commandSenderOf(commandApp) });
  await gateway.listen(0, '127.0.0.1');
  const urlOf = (app: NestFastifyApplication) => `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const commandUrl = urlOf(commandApp);
  return {
    commandUrl,
    gatewayUrl: urlOf(gateway),
    sql,
    async startSession(tokens) {
      const response = await fetch(`${commandUrl}/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${keyOf('alice')}` },
        body: JSON.stringify({ budget: { tokens } }),
      });
      if (response.status !== 201) throw new Error(`session not created: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { sessionId: string }).sessionId;
    },
    async budgetEvents(sessionId) {
      await gateway.get(BudgetLeases).settleAll();
      const events = await new PostgresEventStore(sql).readStream(`budget-${sessionId}`);
      return {
        types: events.map((e) => e.type),
        reserved: events.filter((e) => e.type === 'BudgetReserved').map((e) => e.data as BudgetReserved['data']),
        consumed: events.filter((e) => e.type === 'BudgetConsumed').map((e) => e.data as BudgetConsumed['data']),
        charged: events
          .filter((e) => e.type === 'BudgetConsumed' || e.type === 'BudgetReservationAdjusted')
          .map((e) => (e.data as BudgetConsumed['data'] | BudgetReservationAdjusted['data']).consumed)
          .reduce((sum, c) => ({ tokens: sum.tokens + c.tokens, costMicroUsd: sum.costMicroUsd + c.costMicroUsd }), { tokens: 0, costMicroUsd: 0 }),
      };
    },
    settle: () => gateway.get(BudgetLeases).settleAll(),
    async close() {
      await gateway.close();
      await commandApp.close();
      await sql.close();
      process.env = savedEnv;
    },
  };
}
