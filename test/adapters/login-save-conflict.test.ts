/**
 * `login`'s saves meet a session a run saved meanwhile. A person types the two-factor code (a
 * minute or more after `beginLogin` read the stored session); a worker or the detector saves its
 * rotated cookies (or its own refresh) in that window. The person's new sign-in must be stored
 * over it (it is the newest), and a throttle window a failed attempt learnt must go onto the
 * run's save, keeping that run's cookies (docs/reliability.md, finding 54).
 */
import { describe, expect, it } from 'vitest';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { IcloudSession } from '#adapters/icloud/session/icloud-session.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { parseSessionDocument, serializeSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { reportError } from '#cli/io/error-report.ts';
import { createLogger } from '#shared/logger.ts';
import { InMemorySessionStore } from '#test/fakes/in-memory-session-store.ts';

const NOW = Date.UTC(2026, 11, 7);
const CK = 'https://p61-ckdatabasews.icloud.com:443';

async function begin(store: InMemorySessionStore, endpoint?: IcloudEndpoint) {
  return beginLogin({
    endpoint: endpoint ?? (await resolveEndpoint('apple')),
    store,
    appleId: 'user@example.com',
    logger: createLogger({ level: 'SILENT' }),
    now: () => NOW,
  });
}

async function signedIn(token: string): Promise<string> {
  const session = IcloudSession.create({ appleId: 'user@example.com', endpoint: 'apple', now: NOW });
  session.update({
    dsid: '123',
    ckdatabasewsUrl: CK,
    sessionToken: 'old-session',
    trustToken: 'HSARMTKN-old',
  });
  await session.jar.setCookie(
    `X-APPLE-WEBAUTH-TOKEN="v=2:t=${token}";Path=/;Domain=.icloud.com;Secure;HttpOnly`,
    `${CK}/database/1/x`,
  );
  return serializeSessionDocument(await session.toDocument(NOW));
}

describe("login's save after a sign-in, when a run saved the session meanwhile", () => {
  it("stores the person's new sign-in", async () => {
    const store = new InMemorySessionStore(await signedIn('loaded'));
    const login = await begin(store);
    // While the person reads the code off their phone, a worker saves its rotated cookie.
    await store.save(await signedIn('rotated-by-a-worker'));
    // The sign-in completed (what SRP + two-factor + accountLogin put into the session).
    login.session.update({ sessionToken: 'new-session', trustToken: 'HSARMTKN-new' });

    const saved = await login.save({}).then(
      () => 'saved',
      (error: unknown) => {
        const report = reportError(error);
        return `${report.code} (exit ${report.exitCode}): ${report.message}`;
      },
    );
    expect(saved).toBe('saved');
    const doc = parseSessionDocument((await store.load())!.document);
    expect(doc.trustToken).toBe('HSARMTKN-new');
  });

  it("keeps the run's cookies and adds the throttle window a failed sign-in learnt", async () => {
    const store = new InMemorySessionStore(await signedIn('loaded'));
    const login = await begin(store);
    await login.startSignIn(); // clears the cookies of the session it signs in again
    await store.save(await signedIn('rotated-by-a-worker'));
    login.session.update({ throttledUntil: NOW + 60_000 });

    await login.saveThrottle();
    const doc = parseSessionDocument((await store.load())!.document);
    expect(doc.throttledUntil).toBe(NOW + 60_000);
    expect(JSON.stringify(doc.cookies)).toContain('rotated-by-a-worker');
  });

  it('does not replace a session of another Apple ID saved meanwhile', async () => {
    const store = new InMemorySessionStore(await signedIn('loaded'));
    const login = await begin(store);
    const other = IcloudSession.create({ appleId: 'other@example.com', endpoint: 'apple', now: NOW });
    await store.save(serializeSessionDocument(await other.toDocument(NOW)));
    login.session.update({ sessionToken: 'new-session' });

    await expect(login.save({})).rejects.toThrow(/changed since it was read/);
    expect(parseSessionDocument((await store.load())!.document).appleId).toBe('other@example.com');
  });
});
