/**
 * Text from Apple and from errors, through the one free-text redactor (`scrubSecrets`, which the
 * logger, the CLI's output and every stored failure reason use): what goes and what stays.
 */
import { describe, expect, it } from 'vitest';
import { errorText, REDACTED, scrubSecrets } from '#shared/redact.ts';

const SIGNATURE = 'AtsTnSigValue01';
const COOKIE_VALUE = 'v=2:t=CookieSecret77';
const BARE_TOKEN = 'AQABAAAAsT0kEnSeSsIoNbUgTkX93Zp4Lm8Qq2Rr';
const HEX_TOKEN = '8f3a9c0e1b7d4f2a6c5e9b8d7a3f1e0c';
const APPLE_ID = 'jane.appleseed@example.com';

/** Each hostile string, and the secret it must not keep. */
const HOSTILE: readonly (readonly [string, string, string])[] = [
  [
    'signed CDN URL',
    `GET https://cvws.icloud-content.com/B/AbCd/IMG_1234.HEIC?o=x&s=${SIGNATURE} failed`,
    SIGNATURE,
  ],
  [
    'JSON-escaped signed URL',
    `{"downloadURL":"https:\\/\\/cvws.icloud-content.com\\/B\\/AbCd\\/f?o=x&s=${SIGNATURE}"}`,
    SIGNATURE,
  ],
  ['Cookie header', `Cookie: X-APPLE-WEBAUTH-TOKEN="${COOKIE_VALUE}"; aasp=zz`, 'CookieSecret77'],
  [
    'Set-Cookie header',
    `answered 421 Set-Cookie: X-APPLE-WEBAUTH-TOKEN=${COOKIE_VALUE}; Path=/`,
    'CookieSecret77',
  ],
  ['cookie pair without header', `jar holds X-APPLE-WEBAUTH-TOKEN=${COOKIE_VALUE} now`, 'CookieSecret77'],
  ['token header', `X-Apple-Session-Token: ${BARE_TOKEN}`, BARE_TOKEN],
  ['bare base64 token', `session ${BARE_TOKEN} was refused`, BARE_TOKEN],
  ['bare hex token', `scnt ${HEX_TOKEN} expired`, HEX_TOKEN],
  ['Apple ID', `account ${APPLE_ID} is locked`, 'jane.appleseed'],
  ['JSON token field', `{"dsWebAuthToken":"tok-${SIGNATURE}"}`, SIGNATURE],
];

describe('scrubSecrets on hostile text', () => {
  it.each(HOSTILE)('removes the secret of: %s', (_name, text, secret) => {
    const scrubbed = scrubSecrets(text);
    expect(scrubbed).not.toContain(secret);
    expect(scrubbed).toMatch(/\[redacted\]|\*\*\*/);
  });

  it('keeps the host and path of a signed URL, also JSON-escaped', () => {
    expect(scrubSecrets(`https://cvws.icloud-content.com/B/AbCd/IMG_1234.HEIC?s=${SIGNATURE}`)).toContain(
      'https://cvws.icloud-content.com/B/',
    );
    expect(scrubSecrets(`"https:\\/\\/p61-ckdatabasews.icloud.com\\/database?dsid=1"`)).toContain(
      'https:\\/\\/p61-ckdatabasews.icloud.com\\/database',
    );
  });

  it('removes a 64-digit hex run too: our SHA-256 and a hex token look alike, and free text never needs a digest', () => {
    const digest = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(scrubSecrets(`checksum ${digest} differs`)).toBe(`checksum ${REDACTED} differs`);
  });

  it('masks an Apple ID but keeps enough to recognise it', () => {
    expect(scrubSecrets(`account ${APPLE_ID}`)).toBe('account j***@e***.com');
  });
});

describe('scrubSecrets leaves ordinary text alone', () => {
  const ORDINARY = [
    'IMG_1234.HEIC failed: CDN answered 404',
    'CloudKit answered BAD_REQUEST to records/lookup: Record not found',
    'AXJ0Hn3vR9tAB6zbGWmQdqnLwVqs not archived', // a CloudKit record name (28 characters)
    'zone SharedSync-3F2504E0-4F89-11D3-9A0C-0305E82C3301 caught up', // an identifier around a UUID
    'the local DynamoDB folder /tmp/icloud-s3-status-AbC123/data/dynamodb cannot be opened',
    'Some_Vacation_Photo_From_Grandma_2024_Final.JPG was renamed',
    'request 5f0c2a7e-8d1b-4c3a-9e6f-0a1b2c3d4e5f timed out',
    'refused to delete 12 of 40 archived objects (more than 25%; at most 10 allowed in one run)',
  ];
  it.each(ORDINARY)('%s', (text) => {
    expect(scrubSecrets(text)).toBe(text);
  });
});

describe('errorText', () => {
  it("is an error's name and message, scrubbed", () => {
    const error = new TypeError(`fetch https://cvws.icloud-content.com/B/x?s=${SIGNATURE} for ${APPLE_ID}`);
    const text = errorText(error);
    expect(text).toMatch(/^TypeError: fetch https:\/\/cvws\.icloud-content\.com\/B\/x\?/);
    expect(text).not.toContain(SIGNATURE);
    expect(text).not.toContain('jane.appleseed');
  });

  it('names a thrown non-error without its value', () => {
    expect(errorText({ token: BARE_TOKEN })).toBe('unknown failure');
    expect(errorText(`thrown ${BARE_TOKEN}`)).not.toContain(BARE_TOKEN);
  });
});
