import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';

/** `<repo>/infra/nats/streams.json`, found from this file rather than the working directory. */
export const STREAMS_FILE = fileURLToPath(new URL('../../../infra/nats/streams.json', import.meta.url));

export type StreamDefinition = Partial<StreamConfig> & { name: string; subjects: string[] };

/** The event stream as `infra/nats/streams.json` defines it (durations in nanoseconds). */
export function loadEventStreamDefinition(file = STREAMS_FILE): StreamDefinition {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { events: StreamDefinition };
  return parsed.events;
}

/**
 * Creates the stream or brings its config up to the definition: safe to run at every start by
 * every instance (add of an identical config is a no-op; an existing one is updated).
 */
export async function ensureStream(jsm: JetStreamManager, definition: StreamDefinition): Promise<void> {
  const exists = await jsm.streams.info(definition.name).then(
    () => true,
    () => false,
  );
  if (!exists) {
    try {
      await jsm.streams.add(definition);
      return;
    } catch {
      // Another instance created it meanwhile: fall through and update.
    }
  }
  const { storage: _storage, ...updatable } = definition;
  await jsm.streams.update(definition.name, updatable);
}
