import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { HttpRocketChatClient } from '../../../src/rocketchat/client.js';
import { Cancellation } from '../../../src/rocketchat/cancellation.js';
import { rejection } from '../../helpers/promises.js';

const credentials = { authToken: 'tok', userId: 'user' };
// Nothing listens on the discard port; these tests never get as far as connecting.
const client = () =>
  new HttpRocketChatClient({
    baseUrl: 'http://127.0.0.1:9',
    timeoutMs: 1000,
    deadlineMs: 2000,
    retries: 0,
    retryBudget: 0.2,
    connections: 4,
    queue: 10,
    breakerThreshold: 5,
    breakerHalfOpenMs: 1000,
  });

describe('HttpRocketChatClient', () => {
  it('a closed client answers with a catalogue error rather than throwing undici’s', async () => {
    const c = client();
    await c.close();
    const err = await rejection(c.getVisitor('v1', { credentials }));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('UPSTREAM_UNAVAILABLE');
    expect((err as GatewayError).extensions.upstream).toEqual({ status: null, error: 'UND_ERR_DESTROYED' });
  });

  it('a caller already gone costs no call and answers "aborted"', async () => {
    const c = client();
    const gone = new Cancellation();
    gone.cancel();
    const err = await rejection(c.getVisitor('v1', { credentials, cancellation: gone }));
    expect((err as GatewayError).extensions.upstream).toEqual({ status: null, error: 'aborted' });
    await c.close();
  });
});
