import { afterEach, describe, expect, it } from '@jest/globals';
import { startCommandApi, type CommandApiUnderTest } from './command-api.harness';

/**
 * The client address in the audit log (events' `metadata.ip`) comes from `X-Forwarded-For` only
 * when the connection's peer is a trusted proxy (NEXUS_TRUSTED_PROXIES); anyone else could name
 * any address. The test's connections come from 127.0.0.1.
 */
describe('X-Forwarded-For and the recorded client address', () => {
  let api: CommandApiUnderTest | undefined;
  afterEach(async () => api?.close());

  const recordedIp = async (forwardedFor: string): Promise<string | null> => {
    const started = await api!.post('/v1/sessions', { budget: { tokens: 10 } }, { headers: { 'x-forwarded-for': forwardedFor } });
    expect(started.status).toBe(201);
    const { sessionId } = (await started.json()) as { sessionId: string };
    const [row] = await api!.sql.query<{ ip: string | null }>(
      `SELECT metadata->>'ip' AS ip FROM events WHERE stream_id = $1 ORDER BY stream_version LIMIT 1`,
      [`session-${sessionId}`],
    );
    return row?.ip ?? null;
  };

  it('records the peer, not a forged header, when no proxy is trusted (the default)', async () => {
    api = await startCommandApi();
    expect(await recordedIp('203.0.113.66')).toBe('127.0.0.1');
  });

  it('records the peer when the header comes from a peer outside the trusted ranges', async () => {
    api = await startCommandApi({ NEXUS_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.1' });
    expect(await recordedIp('203.0.113.66')).toBe('127.0.0.1');
  });

  it('records the forwarded client when the peer is a trusted proxy', async () => {
    api = await startCommandApi({ NEXUS_TRUSTED_PROXIES: '127.0.0.1' });
    expect(await recordedIp('203.0.113.66')).toBe('203.0.113.66');
  });

  it('believes the header only as far back as the trusted hops: a client-sent prefix is ignored', async () => {
    api = await startCommandApi({ NEXUS_TRUSTED_PROXIES: '127.0.0.1' });
    // What a proxy appending to the client's own header would send: the forged entry comes first.
    expect(await recordedIp('198.51.100.7, 203.0.113.66')).toBe('203.0.113.66');
  });
});
