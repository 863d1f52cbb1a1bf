/**
 * The archive's account (reliability finding "another Apple ID's session"): the first run records
 * it, the same account goes on, another is refused with a message naming both masked; a session
 * that replaced another account's is told apart by `login`.
 */
import { describe, expect, it } from 'vitest';
import { resolveEndpoint } from '#adapters/icloud/endpoints.ts';
import { accountIdentity } from '#adapters/icloud/session/account-identity.ts';
import { IcloudSession } from '#adapters/icloud/session/icloud-session.ts';
import { beginLogin } from '#adapters/icloud/session/login-session.ts';
import { serializeSessionDocument } from '#adapters/icloud/session/session-schema.ts';
import { checkArchiveOwner, OTHER_ACCOUNT } from '#domain/account/archive-owner.ts';
import { AccountConditionError } from '#domain/errors.ts';
import { createLogger } from '#shared/logger.ts';
import { InMemorySessionStore } from '#test/fakes/in-memory-session-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

const A = accountIdentity('11111111', 'anna@example.com');
const B = accountIdentity('22222222', 'bert@example.org');

describe("the archive's account", () => {
  it('is a hash of the dsid (never the dsid), the same for the same account, the Apple ID masked', () => {
    expect(A.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(A.id).not.toContain('11111111');
    expect(accountIdentity('11111111', undefined).id).toBe(A.id);
    expect(B.id).not.toBe(A.id);
    expect(A.label).toBe('a***@e***.com');
  });

  it('is recorded by the first run, then the same account goes on', async () => {
    const state = new InMemorySyncStateStore();
    expect(await checkArchiveOwner(state, { account: A, now: 1_000 })).toBe('recorded');
    expect(await checkArchiveOwner(state, { account: A, now: 2_000 })).toBe('same');
    expect(await state.loadArchiveOwner()).toEqual({ accountId: A.id, label: A.label, since: 1_000 });
  });

  it("refuses another account's session, naming both masked, never in full", async () => {
    const state = new InMemorySyncStateStore();
    await checkArchiveOwner(state, { account: A, now: 1_000 });
    const error = await checkArchiveOwner(state, { account: B, now: 2_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccountConditionError);
    expect((error as AccountConditionError).condition).toBe(OTHER_ACCOUNT);
    const message = (error as Error).message;
    expect(message).toContain('a***@e***.com');
    expect(message).toContain('b***@e***.org');
    expect(message).not.toMatch(/anna|bert|11111111|22222222/);
    // Nothing recorded over the archive's account.
    expect((await state.loadArchiveOwner())?.accountId).toBe(A.id);
  });

  it('compares only where the caller may not record (a download batch, verify --repair)', async () => {
    const state = new InMemorySyncStateStore();
    const compareOnly = { loadArchiveOwner: () => state.loadArchiveOwner() };
    expect(await checkArchiveOwner(compareOnly, { account: B, now: 1_000 })).toBe('unknown');
    expect(await state.loadArchiveOwner()).toBeUndefined();
    await state.recordArchiveOwner({ accountId: A.id, since: 1_000 });
    await expect(checkArchiveOwner(compareOnly, { account: B, now: 2_000 })).rejects.toThrow(
      /another Apple ID/,
    );
  });

  it('a session that does not say its account is not compared', async () => {
    const state = new InMemorySyncStateStore();
    expect(await checkArchiveOwner(state, { account: undefined, now: 1_000 })).toBe('unknown');
    expect(await state.loadArchiveOwner()).toBeUndefined();
  });
});

describe('login over a stored session of another account', () => {
  async function storedSession(appleId: string, dsid: string): Promise<string> {
    const session = IcloudSession.create({ appleId, endpoint: 'apple', now: 1_000 });
    session.update({ dsid, ckdatabasewsUrl: 'https://p61-ckdatabasews.icloud.com:443' });
    return serializeSessionDocument(await session.toDocument(1_000));
  }

  it("tells the replaced account (masked), not the same account's", async () => {
    const store = new InMemorySessionStore(await storedSession('anna@example.com', '11111111'));
    const login = await beginLogin({
      endpoint: await resolveEndpoint('apple'),
      store,
      appleId: 'bert@example.org',
      logger: createLogger({ level: 'SILENT' }),
    });
    expect(login.replacedAccount('22222222')).toBe('a***@e***.com');
    expect(login.replacedAccount('11111111')).toBeUndefined();
  });

  it('nothing to tell without a stored session', async () => {
    const login = await beginLogin({
      endpoint: await resolveEndpoint('apple'),
      store: new InMemorySessionStore(),
      appleId: 'bert@example.org',
      logger: createLogger({ level: 'SILENT' }),
    });
    expect(login.replacedAccount('22222222')).toBeUndefined();
  });
});
