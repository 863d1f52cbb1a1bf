/**
 * What the `sharedstreams` web service answers (docs/protocol/shared-albums.md): lenient at the
 * edges (extra fields pass; flags as `"1"`/`"0"` or booleans; numbers as strings or numbers),
 * strict at the core (an album without `albumguid` or `albumlocation` is unreadable).
 */
import * as z from 'zod';

/** `"1"`, `1`, `true` read as true; everything else false. */
const Flag = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .optional()
  .transform((v) => v === true || v === 1 || v === '1' || v === 'true');

/** A millisecond time sent as a number or a numeric string. */
const Millis = z
  .union([z.number(), z.string(), z.null()])
  .optional()
  .transform((v) => {
    if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
    if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
    if (typeof v === 'string' && v !== '') {
      const parsed = Date.parse(v);
      return Number.isFinite(parsed) ? parsed : undefined;
    }
    return undefined;
  });

export const wireAlbumSchema = z.looseObject({
  albumguid: z.string().min(1),
  albumlocation: z.string().url(),
  albumctag: z
    .union([z.string(), z.number()])
    .optional()
    .transform((v) => (v === undefined ? '' : String(v))),
  ownerdsid: z
    .union([z.string(), z.number()])
    .optional()
    .transform((v) => (v === undefined ? '' : String(v))),
  sharingtype: z.string().optional(),
  attributes: z
    .looseObject({
      name: z.string().optional(),
      creationDate: Millis,
      ispublic: Flag,
    })
    .optional(),
});
export type WireAlbum = z.infer<typeof wireAlbumSchema>;

/** The list itself: albums that fail the core schema are reported, not fatal. */
export const albumsListSchema = z.looseObject({ albums: z.array(z.unknown()).default([]) });

export const recordsSchema = z.looseObject({ records: z.array(z.unknown()).default([]) });

export const commentsSchema = z.looseObject({
  comments: z
    .array(
      z.looseObject({
        commenttype: z.union([z.string(), z.number()]).optional(),
        comment: z.string().optional(),
        commenttimestamp: Millis,
        fullname: z.string().optional(),
      }),
    )
    .default([]),
});

/** Where a 330 names the right host: a JSON field and/or a header of this name. */
export const REDIRECT_FIELD = 'X-Apple-MMe-Host';
export const redirectBodySchema = z.looseObject({ [REDIRECT_FIELD]: z.string().optional() });
