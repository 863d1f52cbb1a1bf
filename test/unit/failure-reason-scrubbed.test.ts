/**
 * A permanent failure's reason is stored on the manifest entry and returned for the run record
 * already scrubbed: Apple's text in an error message loses its signed URL, cookie, bare token and
 * Apple ID where the error becomes text, whoever reads it later.
 */
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE } from '#adapters/aws/s3-object-store.ts';
import type { ArchiveDeps } from '#domain/archive/archive-deps.ts';
import { processWorkMessage } from '#domain/archive/process-work-message.ts';
import { UnexpectedResponseError } from '#domain/errors.ts';
import { WORK_MESSAGE_VERSION } from '#domain/model/work.ts';
import { DEFAULT_VERSION_POLICY } from '#domain/plan/version-policy.ts';
import { InMemoryObjectStore } from '#test/fakes/in-memory-object-store.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';
import { photoAsset, ScriptedCdn } from '#test/handlers/handler-doubles.ts';

const NOW = 1_750_000_000_000;
const SECRETS = [
  'SigQ9xTz4Kp',
  'CookieVal8Rw2',
  'AQABAAAAsT0kEnSeSsIoNbUgTkX93Zp4Lm8Qq2Rr',
  'jane.appleseed',
];
const APPLE_TEXT =
  'CloudKit answered BAD_REQUEST: see https:\\/\\/cvws.icloud-content.com\\/B\\/AQ\\/f?o=Ak&s=SigQ9xTz4Kp ' +
  'Set-Cookie: X-APPLE-WEBAUTH-TOKEN=CookieVal8Rw2\nsession AQABAAAAsT0kEnSeSsIoNbUgTkX93Zp4Lm8Qq2Rr of jane.appleseed@example.com';

describe('a permanent failure carrying Apple’s text', () => {
  it('is recorded and returned with its reason scrubbed', async () => {
    const state = new InMemorySyncStateStore({ now: () => NOW });
    const cdn = new ScriptedCdn();
    const deps: ArchiveDeps = {
      state,
      objects: new InMemoryObjectStore({ now: () => NOW, partSize: MIN_PART_SIZE }),
      downloader: cdn,
      refresh: async () => ({ assets: [], unavailable: [] }),
      versionPolicy: DEFAULT_VERSION_POLICY,
      deletePolicy: 'keep',
      now: () => NOW,
    };
    const asset = photoAsset('refused', 20);
    cdn.files.set(
      asset.versions[0]?.downloadUrl ?? '',
      () => new UnexpectedResponseError(APPLE_TEXT, { permanent: true }),
    );

    const result = await processWorkMessage(deps, {
      v: WORK_MESSAGE_VERSION,
      runId: 'r',
      issuedAt: NOW,
      items: [{ type: 'asset', asset }],
    });

    const stored = (await state.getEntry(asset))?.failure?.reason ?? '';
    const returned = result.failures[0]?.reason ?? '';
    for (const reason of [stored, returned]) {
      expect(reason).toContain('UnexpectedResponseError: CloudKit answered BAD_REQUEST');
      for (const secret of SECRETS) expect(reason).not.toContain(secret);
    }
  });
});
