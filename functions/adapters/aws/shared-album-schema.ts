/**
 * A Shared Album as our own stores keep it (the work queue's items, the Shared Albums state):
 * one schema, so the two cannot drift. Parsed strictly: these are values we wrote.
 */
import * as z from '#shared/zod.ts';

export const sharedAlbumSchema = z.strictObject({
  albumguid: z.string().check(z.minLength(1)),
  name: z.string(),
  /** The legacy album's base URL; empty for a new-generation album (its zone says where it is). */
  location: z.string(),
  ctag: z.string(),
  ownerDsid: z.string(),
  sharingType: z.enum(['owned', 'subscribed']),
  creationDate: z.optional(z.number()),
  isPublic: z.boolean(),
  collection: z.optional(
    z.strictObject({
      database: z.enum(['private', 'shared']),
      zoneName: z.string().check(z.minLength(1)),
      ownerRecordName: z.string(),
    }),
  ),
  ownerName: z.optional(z.string()),
});
