import { keyOf } from './api-client';

const apiKey = keyOf('alice');

/** An env count for e2e tests: `NEXUS_E2E_<NAME>`, else the default that meets the acceptance. */
export function envCount(name: string, fallback: number): number {
  const raw = process.env[`NEXUS_E2E_${name}`];
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

export interface LoadResult {
  /** Commands answered, by HTTP status. */
  readonly statuses: Map<number, number>;
  readonly commands: number;
  /** Highest `X-Nexus-Position` answered. */
  readonly lastPosition: number;
  /** The first few unexpected answers, for the failure message. */
  readonly failures: string[];
}

export interface LoadOptions {
  readonly commandApiUrl: string;
  /** Total commands; the load ends when they are all answered (or `until` says stop). */
  readonly commands: number;
  readonly concurrency: number;
  /** Pause each worker takes between its commands (a steady, not saturating, load). */
  readonly pauseMs?: number;
  /** Seed of the workers' choices, so a run can be replayed. */
  readonly seed?: number;
  /** Ends the load early (checked before each command), e.g. when a scenario's phases are over. */
  readonly stopWhen?: () => boolean;
  /** Called with each answer as it arrives (status 0: no HTTP answer at all). */
  readonly onAnswer?: (status: number, answer: Answer) => void;
}

/** One command's answer, for tests that judge more than its status. */
export interface Answer {
  readonly path: string;
  readonly text: string;
  /** Absent when no HTTP answer came (connection refused or reset). */
  readonly headers: Headers | undefined;
  /** `X-Nexus-Position` (0 when absent). */
  readonly position: number;
}

/** mulberry32: a tiny seeded PRNG, so the command mix is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A realistic budget workload: each worker owns its sessions (so commands never race on one
 * stream and every answer is expected to be 2xx) and, at random, opens a session, reserves
 * budget, or settles one of its open reservations by consuming or releasing it. Every answer is
 * counted by status; anything but 201/202 is recorded as a failure.
 */
export async function runCommandLoad(options: LoadOptions): Promise<LoadResult> {
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  let issued = 0;
  let lastPosition = 0;

  const post = async (path: string, body: unknown): Promise<Record<string, string> | undefined> => {
    let status: number;
    let text: string;
    let position = 0;
    let headers: Headers | undefined;
    try {
      const response = await fetch(options.commandApiUrl + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}`, 'user-agent': 'nexus-e2e-load/1.0' },
        body: JSON.stringify(body),
      });
      status = response.status;
      text = await response.text();
      position = Number(response.headers.get('x-nexus-position') ?? 0);
      headers = response.headers;
    } catch (error) {
      status = 0;
      text = String(error);
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    options.onAnswer?.(status, { path, text, headers, position });
    if (status !== 201 && status !== 202) {
      if (failures.length < 10) failures.push(`${status} POST ${path}: ${text.slice(0, 300)}`);
      return undefined;
    }
    lastPosition = Math.max(lastPosition, position);
    return text ? (JSON.parse(text) as Record<string, string>) : {};
  };

  const worker = async (index: number): Promise<void> => {
    const random = prng((options.seed ?? 42) * 1000 + index);
    const sessions: string[] = [];
    const reservations: { sessionId: string; reservationId: string }[] = [];
    while (issued < options.commands && !options.stopWhen?.()) {
      issued += 1;
      const roll = random();
      const session = sessions[Math.floor(random() * sessions.length)];
      if (session === undefined || roll < 0.06) {
        const created = await post('/v1/sessions', { budget: { tokens: 1_000_000_000, costUsd: 1_000_000 } });
        if (created?.['sessionId']) sessions.push(created['sessionId']);
      } else if (reservations.length > 0 && roll < 0.55) {
        const [open] = reservations.splice(Math.floor(random() * reservations.length), 1);
        if (!open) continue;
        const base = `/v1/sessions/${open.sessionId}/budget/reservations/${open.reservationId}`;
        if (random() < 0.6) await post(`${base}/consume`, { tokens: 1 + Math.floor(random() * 100), costUsd: 0.01 });
        else await post(`${base}/release`, {});
      } else {
        const reserved = await post(`/v1/sessions/${session}/budget/reservations`, {
          tokens: 100 + Math.floor(random() * 900),
          costUsd: 0.05,
          purpose: 'llm',
        });
        if (reserved?.['reservationId']) reservations.push({ sessionId: session, reservationId: reserved['reservationId'] });
      }
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)));
  return { statuses, commands: issued, lastPosition, failures };
}

/** `{201: 3000, 202: 2000}`-style summary for logs and failure messages. */
export function describeStatuses(statuses: Map<number, number>): string {
  return JSON.stringify(Object.fromEntries([...statuses.entries()].sort(([a], [b]) => a - b)));
}
