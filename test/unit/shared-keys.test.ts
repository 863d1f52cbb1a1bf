/** Shared-album keys stay safe whatever the album or file is called. */
import { describe, expect, it } from 'vitest';
import { albumFolder, sharedItemKey, UNTITLED_ALBUM } from '#domain/shared-albums/shared-keys.ts';

const item = (fileName: string, captureDate?: number) => ({
  assetGuid: 'ASSET-1',
  fileName,
  ...(captureDate === undefined ? {} : { captureDate }),
});

describe('shared-album keys', () => {
  it('files an item under shared-albums/<Album>/<day>/<name>', () => {
    expect(
      sharedItemKey(
        albumFolder('Family 2026', 'G', false),
        item('IMG_0001.JPG', Date.UTC(2026, 0, 2)),
        false,
      ),
    ).toBe('shared-albums/Family 2026/2026-01-02/IMG_0001.JPG');
  });

  it.each([
    ['../../etc', '_._.._etc'],
    ['a/b\\c', 'a_b_c'],
    ['CON', '_CON'],
    ['\u202Egpj.exe', '_gpj.exe'],
    ['  ', UNTITLED_ALBUM],
  ])('makes the hostile album name %j a single safe segment', (name, folder) => {
    const made = albumFolder(name, 'G', false);
    expect(made).toBe(folder);
    expect(made).not.toContain('/');
  });

  it('gives a second album of the same name its own folder', () => {
    expect(albumFolder('Family', 'G1', true)).not.toBe(albumFolder('Family', 'G1', false));
    expect(albumFolder('Family', 'G1', true)).not.toBe(albumFolder('Family', 'G2', true));
  });

  it('keeps a hostile file name inside the album folder, and suffixes the second of a name', () => {
    const key = sharedItemKey('Album', item('../x/\u0000evil.jpg'), false);
    expect(key.startsWith('shared-albums/Album/undated/')).toBe(true);
    expect(key.split('/')).toHaveLength(4);
    const suffixed = sharedItemKey('Album', item('IMG_1.JPG'), true);
    expect(suffixed).toMatch(/^shared-albums\/Album\/undated\/IMG_1_[a-z2-7]{7}\.JPG$/);
  });
});
