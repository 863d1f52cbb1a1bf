/**
 * The reauth latch is stored even when another writer saved the session after this one loaded it
 * (a worker's rotated cookie): the latch's compare-and-set is refused, and the latch must not be
 * dropped with a warning, or the next run would try accountLogin and SRP again with no person.
 */
import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { IcloudSession } from '#adapters/icloud/session/icloud-session.ts';
import { openIcloudSession } from '#adapters/icloud/session/open-session.ts';
import { parseSessionDocument, serializeSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { AccountConditionError } from '#domain/errors.ts';
import { createLogger } from '#shared/logger.ts';
import { InMemorySessionStore } from '#test/fakes/in-memory-session-store.ts';

const NOW = Date.UTC(2026, 11, 7);
const CK = 'https://p61-ckdatabasews.icloud.com:443';
const logger = createLogger({ level: 'SILENT' });

async function signedIn(token: string, sessionToken = 'tok'): Promise<string> {
  const session = IcloudSession.create({ appleId: 'user@example.com', endpoint: 'apple', now: NOW });
  session.update({ dsid: '123', ckdatabasewsUrl: CK, sessionToken, trustToken: 'HSARMTKN-1' });
  await session.jar.setCookie(
    `X-APPLE-WEBAUTH-TOKEN="v=2:t=${token}";Path=/;Domain=.icloud.com;Secure;HttpOnly`,
    `${CK}/database/1/x`,
  );
  return serializeSessionDocument(await session.toDocument(NOW));
}

const tokenOf = (document: string) =>
  parseSessionDocument(document).cookies.find((c) => c.key === 'X-APPLE-WEBAUTH-TOKEN')?.value;

/** CloudKit says "no auth method found" to every request; `meanwhile` runs before the second answer. */
function noAuthMethod(meanwhile: () => Promise<void>): typeof fetch {
  let calls = 0;
  return (async () => {
    calls += 1;
    if (calls === 2) await meanwhile();
    return new Response('{"reason":"no auth method found"}', { status: 401 });
  }) as typeof fetch;
}

async function firstCall(store: InMemorySessionStore, fetchImpl: typeof fetch): Promise<void> {
  const opened = await openIcloudSession({
    endpoint: await resolveEndpoint('apple'),
    store,
    logger,
    now: () => NOW,
    fetch: fetchImpl,
  });
  await opened.http.send({ method: 'POST', url: `${CK}/database/1/x`, json: {} });
}

describe('the latch saved against a newer session', () => {
  it("is stored over a worker's rotated cookie, which it keeps", async () => {
    const store = new InMemorySessionStore(await signedIn('loaded'));
    const rotated = async () => void (await store.save(await signedIn('rotated-by-a-worker')));

    await expect(firstCall(store, noAuthMethod(rotated))).rejects.toThrow(AccountConditionError);

    const stored = (await store.load())!.document;
    expect(parseSessionDocument(stored).signInNeeded?.reason).toMatch(/security key/i);
    expect(tokenOf(stored)).toBe('"v=2:t=rotated-by-a-worker"');
  });

  it('is not set over a session a person signed in again meanwhile', async () => {
    const store = new InMemorySessionStore(await signedIn('loaded'));
    const login = async () => void (await store.save(await signedIn('new-login', 'tok-after-login')));

    await expect(firstCall(store, noAuthMethod(login))).rejects.toThrow(AccountConditionError);

    const stored = (await store.load())!.document;
    expect(parseSessionDocument(stored).signInNeeded).toBeUndefined();
    expect(tokenOf(stored)).toBe('"v=2:t=new-login"');
  });
});
