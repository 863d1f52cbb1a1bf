/**
 * A transfer that stops at an invocation's deadline keeps its hashes' state in its checkpoint, and
 * the next invocation goes on hashing from there: the digests across any number of save/load
 * steps must be Node crypto's of the same bytes (the manifest's SHA-256, rclone's MD5).
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ResumableDigest } from '#adapters/aws/resumable-digest.ts';

function nodeDigest(bytes: Buffer) {
  return {
    bytes: bytes.length,
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

describe('ResumableDigest', () => {
  it("equals Node crypto's digests across saves and loads at any byte (block boundaries or not)", async () => {
    const bytes = randomBytes(300_001);
    for (const cuts of [[], [64], [1, 63, 65], [8191, 100_000, 299_999], [300_001]]) {
      let digest = await ResumableDigest.start();
      let at = 0;
      for (const cut of cuts) {
        digest.update(bytes.subarray(at, cut));
        at = cut;
        const saved = digest.save();
        // Through JSON, as a checkpoint is stored: a new hasher in a new invocation.
        digest = await ResumableDigest.start(JSON.parse(JSON.stringify(saved)));
      }
      digest.update(bytes.subarray(at));
      expect(digest.digest()).toEqual(nodeDigest(bytes));
    }
  });

  it('starts empty: the digests of no bytes', async () => {
    const digest = await ResumableDigest.start();
    expect(digest.digest()).toEqual(nodeDigest(Buffer.alloc(0)));
  });

  it('refuses a saved state that is not one (a checkpoint from elsewhere starts over)', async () => {
    await expect(ResumableDigest.start({ bytes: 3, md5: 'AAAA', sha256: 'AAAA' })).rejects.toBeInstanceOf(
      Error,
    );
  });
});
