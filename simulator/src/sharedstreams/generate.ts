/**
 * The seeded albums and items. Every value is a pure function of (seed, label), so the same seed
 * always yields the same albums, GUIDs, checksums and sizes.
 */
import { checksumOf, digest, type SharedAlbum, type SharedItem, uuidOf } from './model.ts';
import type { SharedPeople } from './people.ts';
import { type ItemKind, renditionsOf } from './renditions.ts';

const DAY = 86_400_000;

const roll = (seed: number, label: string): number =>
  Number.parseInt(digest(seed, label).slice(0, 8), 16) / 2 ** 32;

export interface ItemPlan {
  readonly label: string;
  readonly contributorDsid: string;
  readonly addedDate: number;
  readonly kind?: ItemKind;
  readonly fileName?: string;
}

/** One item with its renditions, from `plan.label` (unique per item). */
export function generateItem(seed: number, scale: number, plan: ItemPlan): SharedItem {
  const r = roll(seed, `${plan.label}:kind`);
  const kind: ItemKind = plan.kind ?? (r < 0.2 ? 'video' : r < 0.28 ? 'panorama' : 'photo');
  const portrait = roll(seed, `${plan.label}:orientation`) < 0.3;
  const [w, h] = kind === 'video' ? [3840, 2160] : kind === 'panorama' ? [16_128, 3_840] : [4032, 3024];
  const original = portrait && kind !== 'panorama' ? { width: h, height: w } : { width: w, height: h };
  const durationSeconds =
    kind === 'video' ? 3 + Math.floor(roll(seed, `${plan.label}:duration`) * 60) : undefined;
  const number = 1000 + Math.floor(roll(seed, `${plan.label}:name`) * 8999);
  const fileName = plan.fileName ?? `IMG_${number}.${kind === 'video' ? 'MP4' : 'JPG'}`;
  const renditions = renditionsOf(kind, original, durationSeconds ?? 0, scale).map((rendition) => ({
    ...rendition,
    fileChecksum: checksumOf(seed, `${plan.label}:${rendition.field}:file`),
    referenceChecksum: checksumOf(seed, `${plan.label}:${rendition.field}:ref`),
  }));
  return {
    assetGuid: uuidOf(seed, `${plan.label}:asset`),
    // 28 upper-case characters, the shape of the legacy fixtures' master names.
    masterName: `A${digest(seed, `${plan.label}:master`).slice(0, 27).toUpperCase()}`,
    fileName,
    kind,
    contributorDsid: plan.contributorDsid,
    addedDate: plan.addedDate,
    captureDate: plan.addedDate - Math.floor(roll(seed, `${plan.label}:capture`) * 30 * DAY),
    originalWidth: original.width,
    originalHeight: original.height,
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
    renditions,
    likes: new Set(),
    comments: [],
    changeTag: 1,
  };
}

export interface AlbumPlan {
  readonly label: string;
  readonly name: string;
  readonly owner: { readonly dsid: string; readonly partition: number };
  readonly subscribers: readonly string[];
  readonly pending?: readonly string[];
  readonly contributors: readonly string[];
  readonly items: number;
  readonly isPublic?: boolean;
  readonly allowContributions?: boolean;
  readonly createdAt: number;
}

export function generateAlbum(
  seed: number,
  scale: number,
  plan: AlbumPlan,
  rootVersion: number,
): SharedAlbum {
  const items: SharedItem[] = [];
  for (let i = 0; i < plan.items; i += 1) {
    const contributor = plan.contributors[i % plan.contributors.length] ?? plan.owner.dsid;
    items.push(
      generateItem(seed, scale, {
        label: `${plan.label}:item:${i}`,
        contributorDsid: contributor,
        addedDate: plan.createdAt + (i + 1) * 3_600_000,
      }),
    );
  }
  const token = `B${digest(seed, `${plan.label}:location`).slice(0, 14).toUpperCase()}`;
  const album: SharedAlbum = {
    albumguid: uuidOf(seed, `${plan.label}:album`),
    name: plan.name,
    ownerDsid: plan.owner.dsid,
    partition: plan.owner.partition,
    locationToken: token,
    creationDate: plan.createdAt,
    allowContributions: plan.allowContributions ?? true,
    isPublic: plan.isPublic ?? false,
    subscribers: new Set(plan.subscribers),
    pending: new Set(plan.pending ?? []),
    items,
    version: 10 + Math.floor(roll(seed, `${plan.label}:ctag`) * 900),
    changedAt: rootVersion,
    deleted: false,
  };
  return album;
}

/** The default albums: two owned by the account, one by the family member, one by a friend, one pending. */
export function defaultAlbums(
  seed: number,
  scale: number,
  people: SharedPeople,
  anchor: number,
): SharedAlbum[] {
  const { owner, member, grandma, friend } = people;
  const day = (n: number) => anchor - n * DAY;
  const plans: AlbumPlan[] = [
    {
      label: 'family',
      name: 'Family 2026',
      owner,
      subscribers: [member.dsid, grandma.dsid],
      contributors: [owner.dsid, member.dsid, grandma.dsid],
      items: 9,
      createdAt: day(120),
    },
    {
      label: 'garden',
      name: 'Garden',
      owner,
      subscribers: [member.dsid],
      contributors: [owner.dsid],
      items: 4,
      isPublic: true,
      allowContributions: false,
      createdAt: day(90),
    },
    {
      label: 'trip',
      name: "Alex's Trip",
      owner: member,
      subscribers: [owner.dsid, friend.dsid],
      contributors: [member.dsid, owner.dsid],
      items: 6,
      createdAt: day(60),
    },
    {
      label: 'recipes',
      name: 'Family',
      owner: grandma,
      subscribers: [owner.dsid, member.dsid],
      contributors: [grandma.dsid],
      items: 3,
      createdAt: day(30),
    },
    {
      label: 'bookclub',
      name: 'Book club',
      owner: friend,
      subscribers: [],
      pending: [owner.dsid],
      contributors: [friend.dsid],
      items: 2,
      createdAt: day(10),
    },
  ];
  const albums = plans.map((plan) => generateAlbum(seed, scale, plan, 1));
  // Some likes and comments, so the plugin fields and getcomments have something to say.
  const family = albums[0]!;
  family.items[0]?.likes.add(member.dsid);
  family.items[0]?.likes.add(grandma.dsid);
  family.items[1]?.comments.push({
    position: 1,
    authorDsid: grandma.dsid,
    type: '0',
    text: 'So lovely!',
    at: day(100),
  });
  for (const item of family.items) {
    for (const liker of item.likes) {
      item.comments.push({
        position: item.comments.length + 1,
        authorDsid: liker,
        type: '1',
        text: '',
        at: day(100),
      });
    }
  }
  return albums;
}
