/**
 * The transport of internal commands (tool-runner and llm-gateway → command-api): Nexus's own
 * NATS request/reply (`@nats-io/transport-node`, what `NatsCommandSender` and command-api's
 * listener use) beside `@nestjs/microservices`' NATS transport (`ClientProxy.send` to a
 * `@MessagePattern` handler, on the `nats` v2 client that transport requires).
 *
 *   node --import @swc-node/register/esm-register bench/internal-transport.bench.ts
 *
 * One throwaway nats-server (or NATS_URL); both sides of both transports in this process, so a row
 * is the transport alone: the same command-sized JSON request (an `AdjustReservation` with its
 * metadata) answered at once with a receipt-sized reply. BENCH_ROUND_TRIPS (default 3000) per row,
 * at concurrency 1 and 16; the two transports alternate in blocks of 500 so that a noisy moment
 * falls on both. CPU is this process's (client and server) per round trip.
 */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, MessagePattern, Payload, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import { connect } from '@nats-io/transport-node';
import { lastValueFrom } from 'rxjs';
import { startNats } from '../libs/testing/src/infra/index';
import { loadAverage } from './support/proc-stats';
import { fixed, percentile, printTable } from './support/report';

const roundTrips = Number(process.env['BENCH_ROUND_TRIPS'] ?? 3000);
const BLOCK = 500;
const SUBJECT_OURS = 'bench.internal.ours';
const PATTERN_NEST = 'bench.internal.nest';

const command = {
  command: {
    type: 'AdjustReservation',
    data: {
      sessionId: '0193b1c2-7a6e-7c3e-9d1a-4b2f0e8c5a11',
      reservationId: 'lease-llm-gateway-7f3a-0193b1c2',
      used: { tokens: 1234, costMicroUsd: 5678, wallClockSeconds: 0 },
      hold: { tokens: 20000, costMicroUsd: 90000, wallClockSeconds: 0 },
      ttlSeconds: 30,
      actor: { userId: 'service:llm-gateway', roles: ['service'], tenantId: 'acme' },
      at: new Date().toISOString(),
    },
  },
  metadata: {
    correlationId: '0193b1c2-7a6e-7c3e-9d1a-4b2f0e8c5a12',
    causationId: null,
    actor: { userId: 'alice', roles: ['user'], tenantId: 'acme' },
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  },
};
const reply = { ok: true, receipt: { position: 123456, events: [{ streamId: 'budget-0193b1c2', version: 42 }] } };

@Controller()
class InternalCommandsController {
  @MessagePattern(PATTERN_NEST)
  handle(@Payload() _message: unknown): typeof reply {
    return reply;
  }
}

@Module({ controllers: [InternalCommandsController] })
class TransportBenchModule {}

/** Round-trip latencies (ms) of `count` calls, `concurrency` in flight. */
async function measure(call: () => Promise<unknown>, count: number, concurrency: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next += 1;
        const started = performance.now();
        await call();
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
}

const nats = process.env['NATS_URL'] ? undefined : await startNats();
const url = process.env['NATS_URL'] ?? nats?.url ?? '';
console.log(`load average (1/5/15 min) at start: ${loadAverage()}`);

// Ours: a queue subscription answering each request, as command-api's listener does.
const server = await connect({ servers: url });
server.subscribe(SUBJECT_OURS, { queue: 'command-api', callback: (_error, message) => void message.respond(JSON.stringify(reply)) });
const client = await connect({ servers: url });
const ours = async () => (await client.request(SUBJECT_OURS, JSON.stringify(command), { timeout: 10_000 })).json();

// Nest's: a microservice with a @MessagePattern handler, and a ClientProxy sending to it.
const microservice = await NestFactory.createMicroservice<MicroserviceOptions>(TransportBenchModule, {
  transport: Transport.NATS,
  options: { servers: [url], queue: 'command-api' },
  logger: false,
});
await microservice.listen();
const proxy: ClientProxy = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [url] } });
await proxy.connect();
const nest = () => lastValueFrom(proxy.send(PATTERN_NEST, command));

const rows: string[][] = [];
for (const concurrency of [1, 16]) {
  await measure(ours, 200, concurrency);
  await measure(nest, 200, concurrency);
  const latencies = { ours: [] as number[], nest: [] as number[] };
  const cpu = { ours: 0, nest: 0 };
  for (let done = 0; done < roundTrips; done += BLOCK) {
    for (const [name, call] of [['ours', ours], ['nest', nest]] as const) {
      const before = process.cpuUsage();
      latencies[name].push(...(await measure(call, Math.min(BLOCK, roundTrips - done), concurrency)));
      const used = process.cpuUsage(before);
      cpu[name] += (used.user + used.system) / 1000;
    }
  }
  for (const name of ['ours', 'nest'] as const) {
    const values = latencies[name];
    rows.push([
      name === 'ours' ? 'Nexus request/reply (@nats-io v3)' : '@nestjs/microservices NATS (nats v2)',
      String(concurrency),
      fixed(percentile(values, 50), 3),
      fixed(percentile(values, 99), 3),
      fixed(cpu[name] / values.length, 3),
    ]);
  }
  const ratio = percentile(latencies.nest, 50) / percentile(latencies.ours, 50);
  rows.push(['p50 ratio, nest / ours', String(concurrency), fixed(ratio, 2), '', fixed(cpu.nest / cpu.ours, 2)]);
}
console.log(`\n${roundTrips} round trips per row (command-sized JSON each way)`);
printTable(['transport', 'concurrency', 'p50 ms', 'p99 ms', 'CPU ms/trip'], rows);
console.log(`load average after: ${loadAverage()}`);

await proxy.close();
await microservice.close();
await client.close();
await server.close();
await nats?.stop();
