/**
 * Folder-style listings (ListObjects with a `delimiter`) for the served archive. s3rver 3.7 prunes
 * its directory walk one level below the prefix when a delimiter is given, so a folder that holds
 * only sub-folders (`library/` holds `2024/`, which holds `2024-07-14/`) lists as empty: a plain
 * `rclone copy`, `rclone lsd` or `aws s3 ls` then sees nothing. This answers such a request from
 * the recursive listing (no delimiter, which s3rver gets right), grouped into CommonPrefixes as
 * S3 does, in one response (no continuation). Contents elements pass through verbatim.
 */
import { type IncomingMessage, request, type ServerResponse } from 'node:http';

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? whole;
  });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** True for a bucket-level GET that lists with a non-empty delimiter. */
export function isDelimiterListing(method: string, url: URL): boolean {
  const segments = url.pathname.split('/').filter((s) => s !== '');
  return (
    method === 'GET' &&
    segments.length === 1 &&
    (url.searchParams.get('delimiter') ?? '') !== '' &&
    !['uploads', 'versions', 'location', 'policy', 'acl', 'cors'].some((p) => url.searchParams.has(p))
  );
}

interface UpstreamPage {
  readonly status: number;
  readonly body: string;
}

function fetchUpstream(
  upstream: URL,
  path: string,
  headers: IncomingMessage['headers'],
): Promise<UpstreamPage> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { hostname: upstream.hostname, port: upstream.port, method: 'GET', path, headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () =>
          resolve({ status: answer.statusCode ?? 502, body: Buffer.concat(chunks).toString() }),
        );
        answer.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Answers a delimiter listing from s3rver's recursive listing. */
export async function answerDelimiterListing(
  upstream: URL,
  incoming: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(incoming.url ?? '/', 'http://local');
  const bucket = url.pathname.split('/').filter((s) => s !== '')[0] ?? '';
  const prefix = url.searchParams.get('prefix') ?? '';
  const delimiter = url.searchParams.get('delimiter') ?? '';
  const v2 = url.searchParams.get('list-type') === '2';
  let marker = url.searchParams.get('start-after') ?? url.searchParams.get('marker') ?? '';
  const contents: string[] = [];
  const prefixes = new Set<string>();
  const headers = { ...incoming.headers };
  delete headers['content-length'];

  for (;;) {
    const query = new URLSearchParams({ prefix, 'max-keys': '1000', ...(marker ? { marker } : {}) });
    const page = await fetchUpstream(upstream, `/${encodeURIComponent(bucket)}?${query}`, headers);
    if (page.status !== 200) {
      response.writeHead(page.status, { 'content-type': 'application/xml' });
      response.end(page.body);
      return;
    }
    const blocks = page.body.match(/<Contents>[\s\S]*?<\/Contents>/g) ?? [];
    for (const block of blocks) {
      const key = decodeXml(/<Key>([\s\S]*?)<\/Key>/.exec(block)?.[1] ?? '');
      marker = key;
      const rest = key.slice(prefix.length);
      const at = rest.indexOf(delimiter);
      if (at === -1) contents.push(block);
      else prefixes.add(key.slice(0, prefix.length + at + delimiter.length));
    }
    if (!/<IsTruncated>true<\/IsTruncated>/.test(page.body) || blocks.length === 0) break;
  }

  const common = [...prefixes]
    .sort()
    .map((p) => `<CommonPrefixes><Prefix>${escapeXml(p)}</Prefix></CommonPrefixes>`)
    .join('');
  const paging = v2
    ? `<KeyCount>${contents.length + prefixes.size}</KeyCount>`
    : `<Marker>${escapeXml(url.searchParams.get('marker') ?? '')}</Marker>`;
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(prefix)}</Prefix>${paging}` +
    `<MaxKeys>${escapeXml(url.searchParams.get('max-keys') ?? '1000')}</MaxKeys>` +
    `<Delimiter>${escapeXml(delimiter)}</Delimiter><IsTruncated>false</IsTruncated>` +
    `${contents.join('')}${common}</ListBucketResult>`;
  response.writeHead(200, { 'content-type': 'application/xml' });
  response.end(body);
}
