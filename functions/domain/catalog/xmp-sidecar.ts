/**
 * XMP sidecars (`<object>.xmp` beside each original; docs/archive-layout.md#10-xmp-sidecars): what
 * photo software on a NAS (digiKam, Immich, PhotoPrism, Lightroom, exiftool) reads from a sidecar
 * without touching the photo: capture time with its offset, GPS position, a rating of 5 for a
 * favourite, title, caption and keywords (the album names, and Apple's keywords).
 *
 * Made from the catalog record alone, so the same record always gives the same bytes and an
 * unchanged sidecar is never rewritten.
 */
import type { CatalogRecord } from './catalog-record.ts';

export const XMP_CONTENT_TYPE = 'application/rdf+xml';

/** The sidecar's key: the original's key with `.xmp` added (`IMG_0001.HEIC.xmp`, darktable's and digiKam's default). */
export function sidecarKeyOf(objectKey: string): string {
  return `${objectKey}.xmp`;
}

const escapeXml = (text: string): string =>
  text
    .replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'))
    // XML 1.0 forbids most control characters even escaped.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** `GPSLatitude` in XMP's `DDD,MM.mmmmmmk` form (EXIF 2.3 for XMP). */
function xmpCoordinate(value: number, positive: string, negative: string): string {
  const ref = value < 0 ? negative : positive;
  const abs = Math.abs(value);
  const degrees = Math.floor(abs);
  const minutes = (abs - degrees) * 60;
  return `${degrees},${minutes.toFixed(6)}${ref}`;
}

function altitude(value: number): string {
  // A rational of centimetres keeps the precision without floating-point text.
  return `${Math.round(Math.abs(value) * 100)}/100`;
}

const langAlt = (name: string, value: string) =>
  `   <${name}>\n    <rdf:Alt>\n     <rdf:li xml:lang="x-default">${escapeXml(value)}</rdf:li>\n    </rdf:Alt>\n   </${name}>\n`;

const bag = (name: string, values: readonly string[]) =>
  `   <${name}>\n    <rdf:Bag>\n${values.map((v) => `     <rdf:li>${escapeXml(v)}</rdf:li>\n`).join('')}    </rdf:Bag>\n   </${name}>\n`;

/**
 * The sidecar of `record`'s original, or undefined when it has no archived original.
 * `albumNames` are the names of its albums (keywords); unknown albums are left out.
 */
export function buildXmpSidecar(
  record: CatalogRecord,
  albumNames: readonly string[] = [],
): string | undefined {
  if (!record.versions.some((v) => v.kind === 'original')) return undefined;
  const attributes: string[] = [];
  if (record.captured !== undefined) {
    attributes.push(`exif:DateTimeOriginal="${escapeXml(record.captured)}"`);
    attributes.push(`xmp:CreateDate="${escapeXml(record.captured)}"`);
    attributes.push(`photoshop:DateCreated="${escapeXml(record.captured)}"`);
  }
  if (record.location !== undefined) {
    attributes.push(`exif:GPSLatitude="${xmpCoordinate(record.location.latitude, 'N', 'S')}"`);
    attributes.push(`exif:GPSLongitude="${xmpCoordinate(record.location.longitude, 'E', 'W')}"`);
    if (record.location.altitude !== undefined) {
      attributes.push(`exif:GPSAltitude="${altitude(record.location.altitude)}"`);
      attributes.push(`exif:GPSAltitudeRef="${record.location.altitude < 0 ? 1 : 0}"`);
    }
  }
  attributes.push(`xmp:Rating="${record.favorite ? 5 : 0}"`);
  const keywords = [...new Set([...albumNames, ...(record.keywords ?? [])])];
  let elements = '';
  if (record.title !== undefined) elements += langAlt('dc:title', record.title);
  if (record.caption !== undefined) elements += langAlt('dc:description', record.caption);
  if (keywords.length > 0) elements += bag('dc:subject', keywords);
  return (
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' +
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="icloud-s3">\n' +
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n' +
    '  <rdf:Description rdf:about=""\n' +
    '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n' +
    '    xmlns:exif="http://ns.adobe.com/exif/1.0/"\n' +
    '    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"\n' +
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n' +
    `    ${attributes.join('\n    ')}>\n` +
    elements +
    '  </rdf:Description>\n' +
    ' </rdf:RDF>\n' +
    '</x:xmpmeta>\n' +
    '<?xpacket end="w"?>\n'
  );
}
