import { describe, expect, it } from '@jest/globals';
import { freePort } from './managed-process';

describe('freePort', () => {
  it('hands out no port twice, although the OS hands out a free port again soon after', async () => {
    // 500 draws from the OS's ~14,000 odd ephemeral ports repeat one about nine times on average:
    // two platforms starting side by side got the same port that way before ports were reserved.
    const ports: number[] = [];
    for (let i = 0; i < 500; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });
});
