/**
 * An object's tags as Amazon S3 keeps them, which s3rver 3.x only half does: it serves
 * Get/PutObjectTagging from a `<key>._S3rver_tagging.xml` file but ignores `x-amz-tagging` on
 * PutObject, CreateMultipartUpload and CopyObject, leaves the file behind when the object is
 * replaced or deleted (a new version would show the old one's tags), and checks no limit.
 *
 * Here that one file is the object's tag set, written with the object (atomic-s3rver-store.ts,
 * `commit`): a PutObject or a completed upload gets the tags its request (CreateMultipartUpload's)
 * declared, none when it declared none; a copy gets the source's (`TaggingDirective` COPY, the
 * default) or its own request's (REPLACE); a delete removes them. The product relies on it: a
 * video uploaded in parts is tagged as staging, and the same-key copy that adds its MD5 must leave
 * the final version untagged, or the lifecycle rule meant for staged versions would expire the
 * person's undo copy a day after it is superseded (infra/archive-bucket.ts).
 *
 * S3's limits on a tag set (its "Object tagging" guide): at most 10 tags, a key of 1-128 and a
 * value of 0-256 Unicode characters, from letters, digits, spaces and `+ - = . _ : / @`, no key
 * twice. The answers are S3's: `400 BadRequest` "Object tags cannot be greater than 10",
 * `400 InvalidTag` "The TagKey/TagValue you have provided is invalid", and for the header's
 * form (a key twice) `400 InvalidArgument` with its message on `x-amz-tagging`.
 */
import xmlParser from 'fast-xml-parser';
import S3Error from 's3rver/lib/models/error.js';

export interface ObjectTag {
  readonly key: string;
  readonly value: string;
}
export type TagSet = readonly ObjectTag[];

/** At most this many tags on one object. */
export const MAX_OBJECT_TAGS = 10;
const MAX_KEY_CHARACTERS = 128;
const MAX_VALUE_CHARACTERS = 256;
/** The characters S3 allows in a tag's key and value. */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** s3rver's S3Error with a status of S3's (s3rver maps some codes to none or another). */
function s3Error(status: number, code: string, message: string, detail?: Record<string, string>): Error {
  return Object.assign(new S3Error(code, message, detail), { status, expose: true });
}

const characters = (text: string) => [...text].length;

/** Throws S3's refusal of `tags` when it breaks one of S3's limits. */
export function refuseInvalidTagSet(tags: TagSet): void {
  if (tags.length > MAX_OBJECT_TAGS)
    throw s3Error(400, 'BadRequest', `Object tags cannot be greater than ${MAX_OBJECT_TAGS}`);
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    if (characters(key) < 1 || characters(key) > MAX_KEY_CHARACTERS || !TAG_CHARACTERS.test(key))
      throw s3Error(400, 'InvalidTag', 'The TagKey you have provided is invalid');
    if (characters(value) > MAX_VALUE_CHARACTERS || !TAG_CHARACTERS.test(value))
      throw s3Error(400, 'InvalidTag', 'The TagValue you have provided is invalid');
    if (seen.has(key)) throw s3Error(400, 'InvalidTag', 'Cannot provide multiple Tags with the same key');
    seen.add(key);
  }
}

/**
 * The tag set an `x-amz-tagging` header declares (URL-query form: `a=1&b=x%20y`), checked;
 * undefined when the request has no such header. An empty header declares no tags.
 */
export function tagsFromHeader(headers: Readonly<Record<string, unknown>> | undefined): TagSet | undefined {
  const header = headers?.['x-amz-tagging'];
  if (header === undefined) return undefined;
  const tags: ObjectTag[] = [];
  const keys = new Set<string>();
  for (const [key, value] of new URLSearchParams(String(header))) {
    if (keys.has(key))
      throw s3Error(
        400,
        'InvalidArgument',
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
        { ArgumentName: 'x-amz-tagging', ArgumentValue: String(header) },
      );
    keys.add(key);
    tags.push({ key, value });
  }
  refuseInvalidTagSet(tags);
  return tags;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The `<Tagging>` document GetObjectTagging answers with (and the tagging file holds). */
export function taggingXml(tags: TagSet): string {
  const set = tags
    .map(({ key, value }) => `<Tag><Key>${escapeXml(key)}</Key><Value>${escapeXml(value)}</Value></Tag>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>${set}</TagSet></Tagging>`;
}

const MALFORMED_XML = () =>
  s3Error(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );

/** The tag set of a PutObjectTagging body (a `<Tagging>` document), checked. */
export function tagsFromXml(xml: string): TagSet {
  if (xmlParser.validate(xml) !== true) throw MALFORMED_XML();
  const parsed = xmlParser.parse(xml, {
    ignoreAttributes: true,
    parseNodeValue: false,
    parseTrueNumberOnly: false,
    trimValues: false,
    tagValueProcessor: (text: string) =>
      text.replace(/&(#(\d+)|#x([0-9a-f]+)|lt|gt|amp|quot|apos);/gi, (whole, _n, dec, hex, name) => {
        if (dec !== undefined) return String.fromCodePoint(Number(dec));
        if (hex !== undefined) return String.fromCodePoint(Number.parseInt(hex, 16));
        return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[String(name).toLowerCase()] ?? whole;
      }),
  }) as { Tagging?: { TagSet?: { Tag?: unknown } | '' } };
  if (parsed.Tagging === undefined || parsed.Tagging.TagSet === undefined) throw MALFORMED_XML();
  const listed = parsed.Tagging.TagSet === '' ? [] : [parsed.Tagging.TagSet.Tag ?? []].flat();
  const tags = listed.map((tag) => {
    const { Key, Value } = (tag ?? {}) as { Key?: unknown; Value?: unknown };
    if (Key === undefined) throw MALFORMED_XML();
    return { key: String(Key), value: Value === undefined ? '' : String(Value) };
  });
  refuseInvalidTagSet(tags);
  return tags;
}
