import { EventEmitter } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';

/** A piece of an LLM answer as it streams, before the call's outcome is an event. */
export interface TokenDelta {
  readonly callId: string;
  readonly index: number;
  readonly text: string;
}

/**
 * Live tokens of a run's LLM calls, from the gateway to whoever watches the run (SSE clients).
 * Fire-and-forget on purpose: tokens are a preview; the recorded outcome is the event.
 */
export interface TokenStreamPort {
  publish(runId: string, delta: TokenDelta): void;
  subscribe(runId: string, onDelta: (delta: TokenDelta) => void): () => void;
  /** Releases the transport, for the adapter's owner. */
  close?(): Promise<void>;
}

export const TOKEN_STREAM = Symbol('TokenStreamPort');

const subjectOf = (runId: string): string => `nexus.tokens.${runId}`;

/** Between processes: NATS core subjects (no persistence, no replay). */
export class NatsTokenStream implements TokenStreamPort {
  constructor(private readonly nats: NatsConnection) {}

  publish(runId: string, delta: TokenDelta): void {
    this.nats.publish(subjectOf(runId), JSON.stringify(delta));
  }

  subscribe(runId: string, onDelta: (delta: TokenDelta) => void): () => void {
    const subscription = this.nats.subscribe(subjectOf(runId), {
      callback: (error, message) => {
        if (error === null) onDelta(message.json<TokenDelta>());
      },
    });
    return () => subscription.unsubscribe();
  }

  async close(): Promise<void> {
    await this.nats.drain();
  }
}

/** Inside one process (embedded mode). */
export class InProcessTokenStream implements TokenStreamPort {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(runId: string, delta: TokenDelta): void {
    this.emitter.emit(runId, delta);
  }

  subscribe(runId: string, onDelta: (delta: TokenDelta) => void): () => void {
    this.emitter.on(runId, onDelta);
    return () => this.emitter.off(runId, onDelta);
  }
}
