import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone, TraceRedactor } from '#shared/trace-redaction.ts';

const B64_256 = Buffer.alloc(256, 7).toString('base64');
const B64_32 = Buffer.alloc(32, 9).toString('base64');
const WIDGET_KEY = 'd39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d';
const SIGNED_CDN = `https://cvws.icloud-content.com/B/AaBbCcDdEeFf0123456789GgHhIiJjKkLlMm/\${f}?o=AkTr3x9Qz&v=1&x=3&a=CAogPa2sLq&e=1765000000&k=Zm9vYmFyYmF6cXV4&fl=&r=11111111-2222&ckc=com.apple.photos.cloud&p=44&s=Xy7SignatureValue01`;

/** Every secret kind: where it sits, the raw value, and the kind its placeholder must name. */
const JSON_SECRETS: readonly { field: string; value: string | number; kind: string; url?: string }[] = [
  { field: 'password', value: 'correct horse battery', kind: 'password' },
  { field: 'a', value: B64_256, kind: 'srp-A' },
  { field: 'A', value: B64_256.replace('B', 'C'), kind: 'srp-A' },
  { field: 'b', value: B64_256.replace('B', 'D'), kind: 'srp-B' },
  { field: 'salt', value: 'UUN/abcdefghijklmnopqr==', kind: 'srp-salt' },
  { field: 'm1', value: B64_32, kind: 'srp-m1' },
  { field: 'm2', value: B64_32.replace('J', 'K'), kind: 'srp-m2' },
  { field: 'c', value: 'd-204-79a9d6f5-ea57-11f0-b8ac-01c2e1c5a3c1:MSA', kind: 'srp-c' },
  { field: 'k', value: B64_32.replace('J', 'L'), kind: 'escrow-k', url: '/appleauth/auth/escrow/complete' },
  { field: 'm1', value: B64_32.replace('J', 'M'), kind: 'escrow-m1', url: '/appleauth/auth/escrow/complete' },
  { field: 'm2', value: B64_32.replace('J', 'N'), kind: 'escrow-m2', url: '/appleauth/auth/escrow/complete' },
  {
    field: 'c',
    value: 'e-1-escrow-challenge-value',
    kind: 'escrow-c',
    url: '/appleauth/auth/escrow/complete',
  },
  { field: 'code', value: '493817', kind: '2fa-code' },
  { field: 'dsWebAuthToken', value: 'AQAAAABlZZZ1234567890abcdefghijKLMNOP~', kind: 'session-token' },
  { field: 'trustToken', value: 'HSARMTKNSRVXWFlaUVYyZnjkAd+tu2Kb', kind: 'trust-token' },
  { field: 'trustTokens', value: 'HSARMTKNSRVXWFlaUVYyZnjkAd+tu2Kc', kind: 'trust-token' },
  { field: 'scnt', value: 'AAAA-0Q2NjA1', kind: 'scnt' },
  { field: 'sessionId', value: 'Q0FGNDE1NjgtQUYwOC0', kind: 'session-id' },
  { field: 'wrappingKey', value: 'xR3bHd8sTkX2wq9z1FvKJA==', kind: 'wrapping-key' },
  { field: 'dsid', value: 13219306182, kind: 'dsid' },
  { field: 'fullName', value: 'Sam Appleseed', kind: 'name' },
];

const HEADER_SECRETS: readonly { name: string; value: string; kind: string }[] = [
  { name: 'X-Apple-Session-Token', value: 'sess-token-value-1234567890', kind: 'session-token' },
  { name: 'X-Apple-TwoSV-Trust-Token', value: 'HSARMTKNSRVXWFla-trust-1234', kind: 'trust-token' },
  { name: 'X-Apple-ID-Session-Id', value: 'C2E1C5A3C1B8AC01', kind: 'session-id' },
  { name: 'scnt', value: 'AAAA-0Q2NjA1MjE3', kind: 'scnt' },
  { name: 'X-Apple-OAuth-Grant-Code', value: 'grant-code-8f3a2b', kind: 'grant-code' },
  { name: 'Authorization', value: 'Bearer abc.def.ghi', kind: 'authorization' },
];

describe('TraceRedactor: secrets by where they sit', () => {
  it.each(JSON_SECRETS)(
    'replaces the JSON field $field with a $kind placeholder',
    ({ field, value, kind, url }) => {
      const redactor = new TraceRedactor();
      const raw = JSON.stringify({ [field]: field === 'trustTokens' ? [value] : value, protocol: 's2k' });
      const body = redactor.body(raw, { escrow: url?.includes('/escrow/') ?? false });
      const text = JSON.stringify(body);
      expect(text).not.toContain(String(value));
      expect(text).toContain(`<redacted:${kind}#1`);
      expect(text).toContain('"protocol":"s2k"');
    },
  );

  it.each(HEADER_SECRETS)('replaces the $name header with a $kind placeholder', ({ name, value, kind }) => {
    const headers = new TraceRedactor().headers([[name, value]]);
    expect(headers[name]?.[0]).toMatch(new RegExp(`^<redacted:${kind}#1( \\d+ (chars|bytes))?>$`));
  });

  it('names the size of SRP values but never the length of a password or a code', () => {
    const redactor = new TraceRedactor();
    expect(redactor.secret(B64_256, 'srp-A')).toBe('<redacted:srp-A#1 256 bytes>');
    expect(redactor.secret('hunter2', 'password')).toBe('<redacted:password#1>');
    expect(redactor.secret('123456', '2fa-code')).toBe('<redacted:2fa-code#1>');
  });

  it('keeps cookie names and attributes and replaces only their values', () => {
    const redactor = new TraceRedactor();
    const headers = redactor.headers([
      [
        'Set-Cookie',
        'X-APPLE-WEBAUTH-TOKEN="v=2:t=AQEAAA~~";Expires=Tue, 05-Jan-2027 00:30:08 GMT;Path=/;Domain=.icloud.com;Secure',
      ],
      ['Cookie', 'X-APPLE-WEBAUTH-TOKEN="v=2:t=AQEAAA~~"; aasp=OMIZGIAKVRYSOCJ8I6SQUEHE7'],
    ]);
    expect(headers['Set-Cookie']).toEqual([
      'X-APPLE-WEBAUTH-TOKEN=<redacted:cookie#1 14 chars>;Expires=Tue, 05-Jan-2027 00:30:08 GMT;Path=/;Domain=.icloud.com;Secure',
    ]);
    expect(headers['Cookie']).toEqual([
      'X-APPLE-WEBAUTH-TOKEN=<redacted:cookie#1 14 chars>; aasp=<redacted:cookie#2 25 chars>',
    ]);
  });

  it('removes the account id Apple puts in a cookie name', () => {
    const redactor = new TraceRedactor();
    const [cookie] = redactor.headers([
      ['Set-Cookie', 'X-APPLE-WEBAUTH-HSA-TRUST-13219306182="v=1:t=x";Path=/'],
    ])['Set-Cookie'] ?? [''];
    expect(cookie).not.toContain('13219306182');
    expect(cookie).toMatch(/^X-APPLE-WEBAUTH-HSA-TRUST-<redacted:dsid#1 11 chars>=<redacted:cookie#1/);
  });

  it("replaces every query value of a CDN URL and its token-like path segment, keeping the parameters' names", () => {
    const uri = new TraceRedactor().url(SIGNED_CDN);
    expect(uri).toMatch(
      /^https:\/\/cvws\.icloud-content\.com\/B\/<redacted:cdn-path#1 \d+ (chars|bytes)>\/\$\{f\}\?o=<redacted:cdn-param#1/,
    );
    for (const value of [
      'AkTr3x9Qz',
      'CAogPa2sLq',
      'Zm9vYmFyYmF6cXV4',
      'Xy7SignatureValue01',
      '1765000000',
      '44',
    ]) {
      expect(uri).not.toContain(`=${value}`);
    }
    expect(uri).toContain('&fl=&');
  });

  it('replaces a downloadURL inside a CloudKit answer the same way as the CDN request later', () => {
    const redactor = new TraceRedactor();
    const body = redactor.body(
      JSON.stringify({
        records: [{ fields: { resOriginalRes: { value: { downloadURL: SIGNED_CDN, size: 12 } } } }],
      }),
    );
    const later = redactor.url(SIGNED_CDN);
    expect(JSON.stringify(body)).toContain(JSON.stringify(later).slice(1, -1));
    expect(JSON.stringify(body)).not.toContain('Xy7SignatureValue01');
  });

  it('keeps ordinary query parameters of other URLs and removes secret ones', () => {
    const uri = new TraceRedactor().url(
      'https://p44-ckdatabasews.icloud.com/database/1/com.apple.photos.cloud/production/private/records/query?remapEnums=true&clientId=auth-1b2c&dsid=13219306182',
    );
    expect(uri).toContain('remapEnums=true&clientId=auth-1b2c&dsid=<redacted:dsid#1 11 chars>');
  });
});

describe('TraceRedactor: secrets by value and by shape', () => {
  it('gives the same secret the same placeholder everywhere in a trace, and another secret another one', () => {
    const redactor = new TraceRedactor();
    const first = redactor.headers([['X-Apple-Session-Token', 'token-one-1234567890']]);
    const body = redactor.body(JSON.stringify({ dsWebAuthToken: 'token-one-1234567890' }));
    const second = redactor.headers([['X-Apple-Session-Token', 'token-two-1234567890']]);
    expect(first['X-Apple-Session-Token']).toEqual(['<redacted:session-token#1 20 chars>']);
    expect(body).toEqual({ json: { dsWebAuthToken: '<redacted:session-token#1 20 chars>' } });
    expect(second['X-Apple-Session-Token']).toEqual(['<redacted:session-token#2 20 chars>']);
  });

  it('finds a secret seen before inside free text, plain, URL-encoded and JSON-escaped', () => {
    const redactor = new TraceRedactor();
    redactor.secret('sEcr/et+value=1234', 'trust-token');
    const text = redactor.text(
      `plain sEcr/et+value=1234, encoded ${encodeURIComponent('sEcr/et+value=1234')}, in "quotes" sEcr\\/et+value=1234`,
    );
    expect(text).not.toContain('sEcr');
    expect(text.match(/<redacted:trust-token#1 18 chars>/g)).toHaveLength(3);
  });

  it('redacts JSON-escaped pairs and URLs inside an HTML page (the auth page boot args)', () => {
    const html =
      '<script type="application/json" class="boot_args">{"direct":{"sessionToken":"abcDEF123456ghiJKL","downloadURL":"https:\\/\\/cvws.icloud-content.com\\/B\\/x\\/f?s=SIG-1&e=9"}}</script>' +
      '<div data-x="{\\"scnt\\":\\"AAAA-0Q2NjA1MjE3\\",\\"accountName\\":\\"jdoe@gmail.com\\"}"></div>';
    const text = new TraceRedactor().text(html);
    for (const value of ['abcDEF123456ghiJKL', 'SIG-1', 'AAAA-0Q2NjA1MjE3', 'jdoe@gmail.com']) {
      expect(text).not.toContain(value);
    }
    expect(text).toContain('"sessionToken":"<redacted:session-token#1 18 chars>"');
    expect(text).toContain(
      'https:\\/\\/cvws.icloud-content.com\\/B\\/x\\/f?s=<redacted:cdn-param#1 5 chars>',
    );
    expect(text).toContain('\\"scnt\\":\\"<redacted:scnt#1 16 chars>\\"');
    expect(text).toContain('j***@g***.com');
  });

  it('replaces bare token-like runs in text and header values, keeping UUIDs, words and public keys', () => {
    const redactor = new TraceRedactor({ publicValues: [WIDGET_KEY] });
    const token = 'Q2FyZWZ1bGx5SGlkZGVuVG9rZW5WYWx1ZTEyMzQ1Njc4OTA';
    const text = redactor.text(
      `error for ${token} at /appleauth/static/module-assets/home-45556079a0eee434f5ce.js req 0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0 key ${WIDGET_KEY}`,
    );
    expect(text).not.toContain(token);
    expect(text).toContain('<redacted:token#1 47 chars>');
    expect(text).toContain('/appleauth/static/module-assets/home-45556079a0eee434f5ce.js');
    expect(text).toContain('0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0');
    expect(text).toContain(WIDGET_KEY);
    expect(redactor.headerValue('X-Apple-Oauth-Client-Id', WIDGET_KEY)).toBe(WIDGET_KEY);
    expect(redactor.headerValue('X-Custom', 'a3F9kQ7zP2mX8vB4nR6tY1wE5uI0oL3jH')).toMatch(
      /^<redacted:token#2/,
    );
  });

  it("keeps identifiers built around a UUID, such as the Shared Library's zone name", () => {
    const zone = 'SharedSync-6B7F1A33-0A4B-4C5D-8E9F-0123456789AB';
    expect(new TraceRedactor().body(JSON.stringify({ zoneID: { zoneName: zone } }))).toEqual({
      json: { zoneID: { zoneName: zone } },
    });
  });

  it('keeps Apple error codes and the fields a maintainer needs to follow the flow', () => {
    const body = new TraceRedactor().body(
      JSON.stringify({
        service_errors: [{ code: '-21669', message: 'Incorrect verification code.' }],
        authType: 'hsa2',
        iteration: 20064,
        protocol: 's2k',
        securityCode: { length: 6, tooManyCodesSent: false },
      }),
    );
    expect(body).toEqual({
      json: {
        service_errors: [{ code: '-21669', message: 'Incorrect verification code.' }],
        authType: 'hsa2',
        iteration: 20064,
        protocol: 's2k',
        securityCode: { length: 6, tooManyCodesSent: false },
      },
    });
  });

  it('masks an Apple ID partially wherever it appears', () => {
    const redactor = new TraceRedactor();
    expect(redactor.body(JSON.stringify({ accountName: 'jdoe@gmail.com' }))).toEqual({
      json: { accountName: 'j***@g***.com' },
    });
    expect(redactor.text('signed in as jane.doe@icloud.com today')).toBe('signed in as j***@i***.com today');
    expect(maskEmail('a@b.co')).toBe('a***@b***.co');
    // An Apple ID that is not an e-mail address is removed instead.
    expect(redactor.body(JSON.stringify({ accountName: 'jdoe-handle' }))).toEqual({
      json: { accountName: '<redacted:apple-id#1 11 chars>' },
    });
  });

  it('masks every digit of a phone number but the last two, as Apple does', () => {
    expect(maskPhone('+1 (415) 555-0181')).toBe('+• (•••) •••-••81');
    const redactor = new TraceRedactor();
    expect(
      redactor.body(JSON.stringify({ numberWithDialCode: '+44 7700 900123', lastTwoDigits: '23' })),
    ).toEqual({
      json: { numberWithDialCode: '+•• •••• ••••23', lastTwoDigits: '23' },
    });
    expect(redactor.text('sent to +33 6 12 34 56 78.')).toBe('sent to +•• • •• •• •• 78.');
  });
});

describe('TraceRedactor.interaction', () => {
  it('gives the recorded-fixture shape, with a media body described instead of recorded', () => {
    const interaction = new TraceRedactor().interaction({
      request: { method: 'GET', url: SIGNED_CDN, headers: [['accept', '*/*']] },
      response: {
        status: 200,
        headers: [
          ['content-type', 'image/jpeg'],
          ['content-length', '2048'],
        ],
        body: { omitted: '<2048 bytes of image/jpeg not recorded>' },
      },
    });
    expect(interaction).toMatchObject({
      request: { method: 'GET', headers: { accept: ['*/*'] }, body: null },
      response: {
        status: 200,
        headers: { 'content-type': ['image/jpeg'], 'content-length': ['2048'] },
        body: { text: '<2048 bytes of image/jpeg not recorded>' },
      },
    });
    expect(interaction.request.uri).not.toContain('Xy7SignatureValue01');
  });

  it('records a JSON body as json and anything else as text, with an empty body as null', () => {
    const interaction = new TraceRedactor().interaction({
      request: {
        method: 'POST',
        url: 'https://setup.icloud.com/setup/ws/1/validate',
        headers: [],
        body: 'null',
      },
      response: { status: 421, headers: [], body: '<html>Misdirected</html>' },
    });
    expect(interaction.request.body).toEqual({ json: null });
    expect(interaction.response.body).toEqual({ text: '<html>Misdirected</html>' });
    const empty = new TraceRedactor().interaction({
      request: { method: 'GET', url: 'https://idmsa.apple.com/appleauth/auth/2sv/trust', headers: [] },
      response: { status: 204, headers: [], body: '' },
    });
    expect(empty.response.body).toBeNull();
  });
});

describe('TraceRedactor: personal record fields', () => {
  it('removes where a photo was taken and its caption, keeping its file name', () => {
    const body = new TraceRedactor().body(
      JSON.stringify({
        records: [
          {
            fields: {
              locationEnc: { value: 'YnBsaXN0MDDUAQIDBAUGBwpYJHZlcnNpb24=', type: 'ENCRYPTED_BYTES' },
              captionEnc: { value: 'TXkgaG91c2U=', type: 'ENCRYPTED_BYTES' },
              filenameEnc: { value: 'SU1HXzAwMDQuTU9W', type: 'ENCRYPTED_BYTES' },
            },
          },
        ],
      }),
    );
    expect(body).toEqual({
      json: {
        records: [
          {
            fields: {
              locationEnc: { value: '<redacted:location#1 26 bytes>', type: 'ENCRYPTED_BYTES' },
              captionEnc: { value: '<redacted:caption#1 8 bytes>', type: 'ENCRYPTED_BYTES' },
              filenameEnc: { value: 'SU1HXzAwMDQuTU9W', type: 'ENCRYPTED_BYTES' },
            },
          },
        ],
      },
    });
  });
});

describe('TraceRedactor: two-factor answers', () => {
  it("removes a trusted device's name (named after its owner) and keeps its id and model", () => {
    const body = new TraceRedactor().body(
      JSON.stringify({ trustedDevices: [{ id: 'd1', name: "Sam's iPhone", modelName: 'iPhone' }] }),
    );
    expect(body).toEqual({
      json: {
        trustedDevices: [{ id: 'd1', name: '<redacted:device-name#1 12 chars>', modelName: 'iPhone' }],
      },
    });
  });
});

describe('TraceRedactor: numbers', () => {
  it('finds a known account id only as a whole number, not inside a longer one', () => {
    const redactor = new TraceRedactor();
    redactor.secret('12345678901', 'dsid');
    expect(redactor.text('user 12345678901, request 123456789012')).toBe(
      'user <redacted:dsid#1 11 chars>, request 123456789012',
    );
  });
});
