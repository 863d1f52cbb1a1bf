/**
 * What the `sharedstreams` web service answers (docs/protocol/shared-albums.md): lenient at the
 * edges (extra fields pass; flags as `"1"`/`"0"` or booleans; numbers as strings or numbers),
 * strict at the core (an album without `albumguid` or `albumlocation` is unreadable).
 */
import * as z from '#shared/zod.ts';

/** `"1"`, `1`, `true` read as true; everything else false. */
const Flag = z.pipe(
  z.optional(z.union([z.string(), z.number(), z.boolean(), z.null()])),
  z.transform((v) => v === true || v === 1 || v === '1' || v === 'true'),
);

/** A millisecond time sent as a number or a numeric string. */
const Millis = z.pipe(
  z.optional(z.union([z.number(), z.string(), z.null()])),
  z.transform((v) => {
    if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    if (typeof v === 'string' && v !== '') {
      const parsed = Date.parse(v);
      return Number.isFinite(parsed) ? parsed : undefined;
    }
    return undefined;
  }),
);

export const wireAlbumSchema = z.looseObject({
  albumguid: z.string().check(z.minLength(1)),
  albumlocation: z.url(),
  albumctag: z.pipe(
    z.optional(z.union([z.string(), z.number()])),
    z.transform((v) => (v === undefined ? '' : String(v))),
  ),
  ownerdsid: z.pipe(
    z.optional(z.union([z.string(), z.number()])),
    z.transform((v) => (v === undefined ? '' : String(v))),
  ),
  sharingtype: z.optional(z.string()),
  attributes: z.optional(
    z.looseObject({
      name: z.optional(z.string()),
      creationDate: Millis,
      ispublic: Flag,
    }),
  ),
});
export type WireAlbum = z.infer<typeof wireAlbumSchema>;

/**
 * The list itself: albums that fail the core schema are reported, not fatal. `albums` is required
 * (the documented answer always has it): a body without it, read as no album, would mark every
 * known album gone.
 */
export const albumsListSchema = z.looseObject({ albums: z.array(z.unknown()) });

/** An album's items: required likewise (a missing list is not an empty album, every item removed). */
export const recordsSchema = z.looseObject({ records: z.array(z.unknown()) });

export const commentsSchema = z.looseObject({
  comments: z._default(
    z.array(
      z.looseObject({
        commenttype: z.optional(z.union([z.string(), z.number()])),
        comment: z.optional(z.string()),
        commenttimestamp: Millis,
        fullname: z.optional(z.string()),
      }),
    ),
    [],
  ),
});

/** Where a 330 names the right host: a JSON field and/or a header of this name. */
export const REDIRECT_FIELD = 'X-Apple-MMe-Host';
export const redirectBodySchema = z.looseObject({ [REDIRECT_FIELD]: z.optional(z.string()) });
