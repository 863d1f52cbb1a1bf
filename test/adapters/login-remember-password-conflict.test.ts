/**
 * `login` on a working session stores or removes the remembered password with the session's
 * compare-and-set save. A run that saved its rotated cookies in between does not make the login
 * fail or lose them: the decision goes onto the session that run saved.
 */
import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { IcloudSession } from '#adapters/icloud/session/icloud-session.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { parseSessionDocument, serializeSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { createLogger } from '#shared/logger.ts';
import { Secret } from '#shared/redact.ts';
import { InMemorySessionStore } from '#test/fakes/in-memory-session-store.ts';

const NOW = Date.UTC(2026, 11, 7);
const CK = 'https://p61-ckdatabasews.icloud.com:443';

async function signedIn(token: string, password?: string): Promise<string> {
  const session = IcloudSession.create({ appleId: 'user@example.com', endpoint: 'apple', now: NOW });
  session.update({
    dsid: '123',
    ckdatabasewsUrl: CK,
    sessionToken: 'tok',
    trustToken: 'HSARMTKN-1',
    password,
  });
  await session.jar.setCookie(
    `X-APPLE-WEBAUTH-TOKEN="v=2:t=${token}";Path=/;Domain=.icloud.com;Secure;HttpOnly`,
    `${CK}/database/1/x`,
  );
  return serializeSessionDocument(await session.toDocument(NOW));
}

const stored = async (store: InMemorySessionStore) => parseSessionDocument((await store.load())!.document);
const tokenOf = (document: ReturnType<typeof parseSessionDocument>) =>
  document.cookies.find((c) => c.key === 'X-APPLE-WEBAUTH-TOKEN')?.value;

async function begin(store: InMemorySessionStore) {
  return beginLogin({
    endpoint: await resolveEndpoint('apple'),
    store,
    appleId: 'user@example.com',
    logger: createLogger({ level: 'SILENT' }),
    now: () => NOW,
  });
}

describe("login's remembered password on a working session", () => {
  it("is stored over a run's rotated cookies, which it keeps", async () => {
    const store = new InMemorySessionStore(await signedIn('loaded'));
    const login = await begin(store);
    await store.save(await signedIn('rotated-by-a-worker'));

    expect(await login.rememberPassword(new Secret('pw-1'))).toBe('stored');
    expect(await stored(store)).toMatchObject({ password: 'pw-1' });
    expect(tokenOf(await stored(store))).toContain('rotated-by-a-worker');
  });

  it("is removed over a run's rotated cookies", async () => {
    const store = new InMemorySessionStore(await signedIn('loaded', 'pw-1'));
    const login = await begin(store);
    await store.save(await signedIn('rotated-by-a-worker', 'pw-1'));

    expect(await login.rememberPassword(undefined)).toBe('removed');
    expect((await stored(store)).password).toBeUndefined();
    expect(tokenOf(await stored(store))).toContain('rotated-by-a-worker');
  });

  it('writes nothing when the decision is what is stored', async () => {
    const store = new InMemorySessionStore(await signedIn('loaded', 'pw-1'));
    const login = await begin(store);
    const before = (await store.load())!.revision;
    expect(await login.rememberPassword(new Secret('pw-1'))).toBeNull();
    expect((await store.load())!.revision).toBe(before);
  });
});
