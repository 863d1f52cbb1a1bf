/**
 * The recordings in the repository hold no live-looking credential: every Apple session cookie
 * is a placeholder (short, or the recorders' `1234567890` filler) and every dsid the recorders'
 * `12345678901`. icloudpd's cassettes are mostly sanitized; two kept 2019/2023 cookies and a dsid,
 * which this test found and test/fixtures/recorded/README.md now says were replaced.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RECORDED_DIR, readRecordedJson, recordedNames } from '../helpers/recorded.js';

const FOLDERS = readdirSync(RECORDED_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** Apple's cookies that carry a session, a trust or a keybag (`name=value` inside any header). */
const APPLE_COOKIE = /((?:X-APPLE-|X_APPLE_)[A-Za-z0-9_-]+)=\\?"?([^;"\\]*)/g;
/** Placeholders are short (`v=1:t=Cw==BST_IAAAAAAABLw1234~~`) or carry the recorders' filler. */
const isPlaceholder = (value: string) => value.length <= 40 || value.includes('1234567890');

function recordingTexts(): Array<{ name: string; text: string }> {
  return FOLDERS.flatMap((folder) =>
    recordedNames(readdirSync(`${RECORDED_DIR}/${folder}`)).map((name) => ({
      name: `${folder}/${name}`,
      text: JSON.stringify(readRecordedJson(folder, `${name}.json`)),
    })),
  );
}

describe('recorded fixtures', () => {
  const recordings = recordingTexts();

  it('are read (so the checks below cannot pass on nothing)', () => {
    expect(recordings.map((r) => r.name)).toContain('icloudpd/listing_albums');
    expect(recordings.length).toBeGreaterThan(5);
  });

  it.each(recordings.map((r) => [r.name, r.text] as const))(
    '%s: Apple cookies are placeholders',
    (_, text) => {
      const live = [...text.matchAll(APPLE_COOKIE)]
        .filter(([, , value]) => !isPlaceholder(value ?? ''))
        .map(([, name, value]) => `${name} (${value?.length} chars)`);
      expect(live).toEqual([]);
    },
  );

  it.each(recordings.map((r) => [r.name, r.text] as const))(
    '%s: every dsid is the placeholder',
    (_, text) => {
      const dsids = [...text.matchAll(/\bd=(\d{6,})/g)].map(([, dsid]) => dsid);
      expect(dsids.filter((dsid) => dsid !== '12345678901')).toEqual([]);
    },
  );
});
