import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IcloudSession, TRUST_LIFETIME_MS } from '#adapters/icloud/session/icloud-session.ts';
import { captureSessionHeaders } from '#adapters/icloud/session/session-headers.ts';
import { parseSessionDocument, serializeSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { defaultSessionPath, FileSessionStore } from '#adapters/local/file-session-store.ts';
import { ConflictError, InvalidInputError } from '#domain/errors.ts';

const NOW = Date.parse('2026-03-01T12:00:00Z');

async function signedInSession(): Promise<IcloudSession> {
  const session = IcloudSession.create({ appleId: 'user@example.com', endpoint: 'apple', now: NOW });
  await session.jar.setCookie(
    'X-APPLE-WEBAUTH-USER="v=1:s=1:d=123";Expires=Fri, 12-Jan-2099 05:06:31 GMT;Path=/;Domain=.icloud.com;Secure;HttpOnly',
    'https://setup.icloud.com/setup/ws/1/accountLogin',
  );
  await session.jar.setCookie(
    'X-APPLE-WEBAUTH-TOKEN="v=2:t=abc";Path=/;Domain=.icloud.com;Secure;HttpOnly',
    'https://p61-ckdatabasews.icloud.com/database/1/x',
  );
  await session.jar.setCookie(
    'aasp=xyz; Path=/; Secure',
    'https://idmsa.apple.com/appleauth/auth/signin/init',
  );
  session.applyHeaders(
    { sessionToken: 'tok', trustToken: 'HSARMTKN-1', accountCountry: 'USA', scnt: 's1' },
    NOW,
  );
  session.update({ dsid: '123', ckdatabasewsUrl: 'https://p61-ckdatabasews.icloud.com:443' });
  return session;
}

describe('session document', () => {
  it('round-trips cookies with their domains, paths, flags and expiry', async () => {
    const original = await signedInSession();
    const text = serializeSessionDocument(await original.toDocument(NOW));
    const restored = await IcloudSession.fromDocument(parseSessionDocument(text));

    const ck = await restored.jar.getCookieString('https://p99-ckdatabasews.icloud.com/database/1/y');
    expect(ck).toContain('X-APPLE-WEBAUTH-TOKEN="v=2:t=abc"');
    expect(ck).toContain('X-APPLE-WEBAUTH-USER="v=1:s=1:d=123"');
    expect(ck).not.toContain('aasp');
    expect(await restored.jar.getCookieString('https://idmsa.apple.com/appleauth/auth')).toBe('aasp=xyz');
    expect(await restored.jar.getCookieString('http://setup.icloud.com/')).toBe('');
    const user = parseSessionDocument(text).cookies.find((c) => c.key === 'X-APPLE-WEBAUTH-USER');
    expect(user).toMatchObject({
      domain: 'icloud.com',
      path: '/',
      hostOnly: false,
      secure: true,
      httpOnly: true,
    });
    expect(user?.expires).toBe(Date.parse('2099-01-12T05:06:31Z'));
  });

  it('round-trips every token and timestamp', async () => {
    const original = await signedInSession();
    const document = await original.toDocument(NOW);
    const restored = await IcloudSession.fromDocument(
      parseSessionDocument(serializeSessionDocument(document)),
    );
    expect(restored.fields).toMatchObject({
      appleId: 'user@example.com',
      clientId: original.clientId,
      sessionToken: 'tok',
      trustToken: 'HSARMTKN-1',
      trustTokenIssuedAt: NOW,
      accountCountry: 'USA',
      dsid: '123',
      ckdatabasewsUrl: 'https://p61-ckdatabasews.icloud.com:443',
    });
    expect(document.schemaVersion).toBe(1);
    expect(restored.trustExpiresAt()).toBe(NOW + TRUST_LIFETIME_MS);
  });

  it('drops cookies that expired before saving', async () => {
    const session = await signedInSession();
    await session.jar.setCookie(
      'X_APPLE_WEB_KB-OLD="x";Expires=Sun, 11-Feb-2024 05:06:31 GMT;Path=/;Domain=.icloud.com',
      'https://setup.icloud.com/',
      { now: new Date('2024-01-01') },
    );
    const document = await session.toDocument(NOW);
    expect(document.cookies.map((c) => c.key)).not.toContain('X_APPLE_WEB_KB-OLD');
  });

  it('rejects unknown keys', async () => {
    const document = { ...(await (await signedInSession()).toDocument(NOW)), extra: true };
    expect(() => parseSessionDocument(JSON.stringify(document))).toThrow(InvalidInputError);
  });

  it('rejects another schema version', async () => {
    const document = { ...(await (await signedInSession()).toDocument(NOW)), schemaVersion: 2 };
    expect(() => parseSessionDocument(JSON.stringify(document))).toThrow(/schema version 1/);
  });

  it('never puts a secret value in its validation error', async () => {
    const document = { ...(await (await signedInSession()).toDocument(NOW)), trustToken: 42 };
    try {
      parseSessionDocument(JSON.stringify(document));
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain('trustToken');
      expect(String(error)).not.toContain('tok');
    }
  });

  it('writes the reauth latch only when set, so an unlatched document reads as before', async () => {
    const session = await signedInSession();
    expect(serializeSessionDocument(await session.toDocument(NOW))).not.toContain('signInNeeded');
    session.update({ signInNeeded: { since: NOW, reason: 'Apple asks for two-factor verification again' } });
    const latched = parseSessionDocument(serializeSessionDocument(await session.toDocument(NOW)));
    expect(latched.signInNeeded).toEqual({
      since: NOW,
      reason: 'Apple asks for two-factor verification again',
    });
    session.update({ signInNeeded: undefined });
    expect(serializeSessionDocument(await session.toDocument(NOW))).not.toContain('signInNeeded');
  });

  it('rejects a reauth latch with unknown keys', async () => {
    const document = {
      ...(await (await signedInSession()).toDocument(NOW)),
      signInNeeded: { since: NOW, reason: 'x', by: 'worker' },
    };
    expect(() => parseSessionDocument(JSON.stringify(document))).toThrow(/signInNeeded/);
  });

  it('drops the reauth latch when reset for a new sign-in', async () => {
    const session = await signedInSession();
    session.update({ signInNeeded: { since: NOW, reason: 'x' } });
    await session.resetForSignIn();
    expect(session.fields.signInNeeded).toBeUndefined();
  });

  it('keeps client id, trust token and password when reset for a new sign-in', async () => {
    const session = await signedInSession();
    session.update({ password: 'pw' });
    const clientId = session.clientId;
    await session.resetForSignIn();
    expect(session.fields).toMatchObject({ clientId, trustToken: 'HSARMTKN-1', password: 'pw' });
    expect(session.fields.sessionToken).toBeUndefined();
    expect(session.fields.scnt).toBeUndefined();
    expect((await session.toDocument(NOW)).cookies).toEqual([]);
  });

  it('generates a permanent auth-<uuid> client id', () => {
    const session = IcloudSession.create({ appleId: 'a@b.c', endpoint: 'apple', now: NOW });
    expect(session.clientId).toMatch(/^auth-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});

describe('session header capture', () => {
  it('captures the session-state headers that are present and non-empty', () => {
    const headers = new Headers({
      scnt: 'scnt-1',
      'X-Apple-ID-Session-Id': 'sess-1',
      'X-Apple-Session-Token': 'token-1',
      'X-Apple-ID-Account-Country': 'USA',
      'X-Apple-TwoSV-Trust-Eligible': 'true',
      'X-Apple-TwoSV-Trust-Token': '',
      'X-Apple-I-Ercd': '-21669',
    });
    expect(captureSessionHeaders(headers)).toEqual({
      scnt: 'scnt-1',
      sessionId: 'sess-1',
      sessionToken: 'token-1',
      accountCountry: 'USA',
      trustEligible: 'true',
      ercd: '-21669',
    });
  });

  it('leaves stored values alone when a later response omits them', () => {
    const session = IcloudSession.create({ appleId: 'a@b.c', endpoint: 'apple', now: NOW });
    session.applyHeaders(
      captureSessionHeaders(new Headers({ scnt: 'a', 'X-Apple-Session-Token': 't1' })),
      NOW,
    );
    session.applyHeaders(captureSessionHeaders(new Headers({ scnt: 'b' })), NOW);
    expect(session.fields).toMatchObject({ scnt: 'b', sessionToken: 't1' });
  });

  it('records when a new trust token was issued', () => {
    const session = IcloudSession.create({ appleId: 'a@b.c', endpoint: 'apple', now: NOW });
    session.applyHeaders({ trustToken: 'HSARMTKN-1' }, NOW);
    session.applyHeaders({ trustToken: 'HSARMTKN-1' }, NOW + 1000);
    expect(session.fields.trustTokenIssuedAt).toBe(NOW);
    session.applyHeaders({ trustToken: 'HSARMTKN-2' }, NOW + 2000);
    expect(session.fields.trustTokenIssuedAt).toBe(NOW + 2000);
  });
});

describe('FileSessionStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'icloud-s3-store-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns undefined when nothing was stored', async () => {
    expect(await new FileSessionStore(join(dir, 'none', 'session.json')).load()).toBeUndefined();
  });

  it('writes the file with mode 0600 in a 0700 directory', async () => {
    const path = join(dir, 'fresh', 'session.json');
    await new FileSessionStore(path).save('{"a":1}');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'fresh'))).mode & 0o777).toBe(0o700);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}');
  });

  it('saves when the expected revision is current and returns the new one', async () => {
    const store = new FileSessionStore(join(dir, 'cas', 'session.json'));
    const first = await store.save('one');
    const second = await store.save('two', first.revision);
    expect((await store.load())?.revision).toBe(second.revision);
    expect(second.revision).not.toBe(first.revision);
  });

  it('refuses a save whose expected revision is stale', async () => {
    const store = new FileSessionStore(join(dir, 'stale', 'session.json'));
    const first = await store.save('one');
    await store.save('two', first.revision);
    await expect(store.save('three', first.revision)).rejects.toThrow(ConflictError);
    expect((await store.load())?.document).toBe('two');
  });

  it('refuses a compare-and-set against a file that does not exist', async () => {
    const store = new FileSessionStore(join(dir, 'gone', 'session.json'));
    await expect(store.save('x', 'some-revision')).rejects.toThrow(ConflictError);
  });

  it('breaks a lock left behind by a crashed process', async () => {
    const path = join(dir, 'locked', 'session.json');
    const store = new FileSessionStore(path);
    await store.save('one');
    await writeFile(`${path}.lock`, '');
    const { utimes } = await import('node:fs/promises');
    const old = new Date(Date.now() - 60_000);
    await utimes(`${path}.lock`, old, old);
    await store.save('two');
    expect((await store.load())?.document).toBe('two');
  });

  it('defaults to XDG_CONFIG_HOME, else ~/.config', () => {
    expect(defaultSessionPath({ XDG_CONFIG_HOME: '/x/cfg' })).toBe('/x/cfg/icloud-s3/session.json');
    expect(defaultSessionPath({})).toMatch(/\.config\/icloud-s3\/session\.json$/);
  });
});
