import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WIDGET_KEY } from '#adapters/icloud/auth/auth-context.ts';
import { type RawInteraction, TraceRedactor } from '#shared/trace-redaction.ts';
import { readRecordedJson, recordedNames, recordedPath } from '#test/helpers/recorded.ts';

type RecordedBody = { json: unknown } | { text: string } | null;
interface Recorded {
  interactions: {
    request: { method: string; uri: string; headers: Record<string, string[]>; body: RecordedBody };
    response: { status: number; headers: Record<string, string[]>; body: RecordedBody };
  }[];
}

const bodyText = (body: RecordedBody): string | undefined =>
  body === null ? undefined : 'json' in body ? JSON.stringify(body.json) : body.text;
const entries = (headers: Record<string, string[]>) =>
  Object.entries(headers).flatMap(([name, values]) => values.map((value) => [name, value] as const));

/** A recorded exchange as the recorder would see it (a CDN download's bytes are never read). */
function asRaw(interaction: Recorded['interactions'][number]): RawInteraction {
  const { request, response } = interaction;
  const download = new URL(request.uri).hostname.endsWith('icloud-content.com') && response.status === 200;
  return {
    request: {
      method: request.method,
      url: request.uri,
      headers: entries(request.headers),
      body: bodyText(request.body),
    },
    response: {
      status: response.status,
      headers: entries(response.headers),
      body: download ? { omitted: '<bytes not recorded>' } : bodyText(response.body),
    },
  };
}

const SECRET_HEADERS = new Set([
  'x-apple-session-token',
  'x-apple-twosv-trust-token',
  'x-apple-id-session-id',
  'scnt',
]);
const SECRET_FIELDS = new Set([
  'a',
  'b',
  'c',
  'm1',
  'm2',
  'salt',
  'dsWebAuthToken',
  'trustToken',
  'trustTokens',
  'dsid',
  'accountName',
  'appleId',
  'primaryEmail',
  'fullName',
]);

/** The values in a recording that a trace must not show. */
function secretsIn(recorded: Recorded): Set<string> {
  const found = new Set<string>();
  const walk = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) for (const item of value) walk(item, key);
    else if (value !== null && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, k);
    else if (key && SECRET_FIELDS.has(key) && (typeof value === 'string' || typeof value === 'number'))
      found.add(String(value));
  };
  for (const { request, response } of recorded.interactions) {
    for (const [name, value] of [...entries(request.headers), ...entries(response.headers)]) {
      const lower = name.toLowerCase();
      if (SECRET_HEADERS.has(lower)) found.add(value);
      if (lower === 'cookie' || lower === 'set-cookie') {
        const first = value.split(';')[0] ?? '';
        found.add(first.slice(first.indexOf('=') + 1).replace(/^"(.*)"$/, '$1'));
      }
    }
    for (const body of [request.body, response.body]) if (body && 'json' in body) walk(body.json);
  }
  return new Set([...found].filter((value) => value.length >= 6));
}

const cassettes = recordedNames(readdirSync(recordedPath('icloudpd')));

describe('a trace of each recorded exchange with Apple', () => {
  it.each(cassettes)('%s: no cookie, token, SRP value, account id or Apple ID survives', (name) => {
    const recorded = readRecordedJson('icloudpd', `${name}.json`) as Recorded;
    const redactor = new TraceRedactor({ publicValues: [WIDGET_KEY] });
    const trace = JSON.stringify(recorded.interactions.map((i) => redactor.interaction(asRaw(i))));
    const secrets = secretsIn(recorded);
    expect(secrets.size).toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const form of [secret, JSON.stringify(secret).slice(1, -1)]) {
        // A number counts only whole: the recordings' dummy request ids contain their dummy dsid.
        const pattern = /^\d+$/.test(form) ? new RegExp(`(?<!\\d)${form}(?!\\d)`) : undefined;
        if (pattern) expect(trace, `${name} leaks ${form.slice(0, 12)}…`).not.toMatch(pattern);
        else expect(trace, `${name} leaks ${form.slice(0, 12)}…`).not.toContain(form);
      }
    }
    expect(JSON.parse(trace)).toHaveLength(recorded.interactions.length);
  });

  it("keeps what a maintainer follows the flow by: Apple's public widget key, statuses, flags, error codes", () => {
    const recorded = readRecordedJson('icloudpd', '2fa_flow_invalid_code.json') as Recorded;
    const redactor = new TraceRedactor({ publicValues: [WIDGET_KEY] });
    const trace = recorded.interactions.map((i) => redactor.interaction(asRaw(i)));
    const text = JSON.stringify(trace);
    expect(text).toContain(WIDGET_KEY);
    expect(trace.map((i) => i.response.status)).toEqual(recorded.interactions.map((i) => i.response.status));
    expect(text).toContain('"auth_type":"hsa2"');
    expect(text).toContain('"code":"-21669"');
  });
});
