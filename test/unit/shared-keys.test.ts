/** Shared-album keys stay safe whatever the album or file is called. */
import { describe, expect, it } from 'vitest';
import { MAX_SEGMENT_BYTES, utf8Length } from '#domain/plan/sanitize.ts';
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

  it('keeps the keys it always gave names whose suffix fits (archived keys never move)', () => {
    expect(albumFolder('Family', 'G1', true)).toBe('Family_pn3y4ta');
    expect(albumFolder('Ferien in Südtirol 🏔️', 'ALBUM-7', true)).toBe('Ferien in Südtirol 🏔️_pgdqtn2');
    expect(albumFolder('a'.repeat(191), 'G1', true)).toBe(`${'a'.repeat(191)}_pn3y4ta`);
    expect(sharedItemKey('Album', item('IMG_1.JPG', Date.UTC(2026, 0, 2)), true)).toBe(
      'shared-albums/Album/2026-01-02/IMG_1_u6lwjeg.JPG',
    );
    expect(sharedItemKey('Album', item('Été à Paris.heic'), true)).toBe(
      'shared-albums/Album/undated/Été à Paris_u6lwjeg.heic',
    );
    expect(sharedItemKey('Album', item(`${'b'.repeat(188)}.jpg`), true)).toBe(
      `shared-albums/Album/undated/${'b'.repeat(188)}_u6lwjeg.jpg`,
    );
    expect(sharedItemKey('Album', item('noext'), true)).toBe('shared-albums/Album/undated/noext_u6lwjeg');
  });

  it('suffixes the second item of a 208-byte name: the name is cut, never its suffix', () => {
    const name = `${'n'.repeat(204)}.MOV`;
    const day = Date.UTC(2026, 0, 2);
    const plain = sharedItemKey('Album', item(name, day), false);
    const suffixed = sharedItemKey('Album', item(name, day), true);
    expect(suffixed).not.toBe(plain);
    const file = suffixed.split('/').at(-1) ?? '';
    expect(file).toMatch(/^n+_u6lwjeg\.MOV$/);
    expect(utf8Length(file)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
  });

  it('gives a second album of a long name its own folder, suffix kept whole', () => {
    const name = 'f'.repeat(208);
    const suffixed = albumFolder(name, 'G1', true);
    expect(suffixed).not.toBe(albumFolder(name, 'G1', false));
    expect(suffixed).toMatch(/^f+_pn3y4ta$/);
    expect(utf8Length(suffixed)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
  });

  it('cuts a long multi-byte name between characters, never inside one, and keeps it NFC', () => {
    const name = `${'日本語の写真'.repeat(12)}e\u0301.jpg`;
    const suffixed = sharedItemKey('Album', item(name), true).split('/').at(-1) ?? '';
    expect(suffixed).toMatch(/_u6lwjeg\.jpg$/);
    expect(utf8Length(suffixed)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    expect(suffixed).toBe(suffixed.normalize('NFC'));
    expect(suffixed).not.toContain('\ufffd');
    const folder = albumFolder('👨‍👩‍👧'.repeat(30), 'G1', true);
    expect(folder).toMatch(/^(👨‍👩‍👧)+_pn3y4ta$/u);
    expect(utf8Length(folder)).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
  });
});
