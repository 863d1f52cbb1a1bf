import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCloudKit, openInProcessCloudKit } from '#simulator/src/cloudkit/in-process.ts';

interface ZoneEntry {
  readonly zoneID: { readonly zoneName: string; readonly ownerRecordName: string; readonly zoneType: string };
  readonly syncToken: string;
}

describe('zones of other apps (S52)', () => {
  let ck: InProcessCloudKit;

  beforeAll(async () => {
    ck = await openInProcessCloudKit({ seed: 52, assets: 20 });
  });

  afterEach(() => {
    ck.library.quirks.otherAppZones = false;
  });

  it('S52: zones/list also names an AppLibrarySync and a CMM zone when configured', async () => {
    ck.library.quirks.otherAppZones = true;
    const reply = await ck.call<{ zones: ZoneEntry[] }>('zones/list', {});
    const names = reply.json.zones.map((z) => z.zoneID.zoneName);
    expect(names).toContain('PrimarySync');
    expect(names.some((n) => /^AppLibrarySync-com\.apple\.GenerativePlayground-[0-9A-F-]{36}$/.test(n))).toBe(
      true,
    );
    expect(names.some((n) => /^CMM-[0-9A-F-]{36}$/.test(n))).toBe(true);
    for (const zone of reply.json.zones) expect(zone.zoneID.zoneType).toBe('REGULAR_CUSTOM_ZONE');
  });

  it('S52: changes/database reports those zones as changed, even when the photo zones did not change', async () => {
    const first = await ck.call<{ syncToken: string }>('changes/database', {});
    ck.library.quirks.otherAppZones = true;
    const again = await ck.call<{ zones: ZoneEntry[] }>('changes/database', {
      syncToken: first.json.syncToken,
    });
    const names = again.json.zones.map((z) => z.zoneID.zoneName);
    expect(names).toHaveLength(2);
    expect(names.every((n) => n.startsWith('AppLibrarySync-') || n.startsWith('CMM-'))).toBe(true);
  });

  it('S52: the zones are absent by default', async () => {
    const reply = await ck.call<{ zones: ZoneEntry[] }>('zones/list', {});
    expect(reply.json.zones.map((z) => z.zoneID.zoneName).every((n) => !n.startsWith('CMM-'))).toBe(true);
  });
});
