import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, redactingReplacer } from '#shared/logger.ts';
import { REDACTED, redactUrl, Secret, scrubSecrets } from '#shared/redact.ts';

describe('Secret', () => {
  const password = new Secret('hunter2-very-secret');

  it('gives its value only through reveal()', () => {
    expect(password.reveal()).toBe('hunter2-very-secret');
  });

  it('prints [redacted] through String, template literals, JSON and inspect', () => {
    expect(String(password)).toBe(REDACTED);
    expect(`${password}`).toBe(REDACTED);
    expect(JSON.stringify({ password })).toBe(`{"password":"${REDACTED}"}`);
    expect(inspect({ password })).not.toContain('hunter2');
  });
});

describe('scrubSecrets', () => {
  it("removes a signed URL's query string", () => {
    const text = 'GET https://cvws.icloud-content.com/B/AbCd/file?o=Ah&e=1700000000&s=sig-123 failed';
    const scrubbed = scrubSecrets(text);
    expect(scrubbed).not.toContain('sig-123');
    expect(scrubbed).toContain('https://cvws.icloud-content.com/B/AbCd/file');
  });

  it('removes cookie header values', () => {
    const scrubbed = scrubSecrets('Cookie: X-APPLE-WEBAUTH-TOKEN="v=2:t=abc"; aasp=xyz');
    expect(scrubbed).not.toContain('abc');
    expect(scrubbed).not.toContain('xyz');
  });

  it('removes Apple cookie values from a Set-Cookie-like pair list', () => {
    const scrubbed = scrubSecrets('jar has X-APPLE-WEBAUTH-USER="v=1:s=1:d=123" and X_APPLE_WEB_KB-ABC=tok');
    expect(scrubbed).not.toContain('d=123');
    expect(scrubbed).not.toContain('tok');
  });

  it('removes token values from JSON text', () => {
    const scrubbed = scrubSecrets(
      '{"dsWebAuthToken":"tok-1","trustToken":"HSARMTKN-2","accountCountryCode":"USA"}',
    );
    expect(scrubbed).not.toContain('tok-1');
    expect(scrubbed).not.toContain('HSARMTKN-2');
    expect(scrubbed).toContain('USA');
  });

  it('leaves text without secrets unchanged', () => {
    expect(scrubSecrets('signin/complete answered 409')).toBe('signin/complete answered 409');
  });
});

describe('redactUrl', () => {
  it('keeps origin and path and drops the query', () => {
    expect(redactUrl('https://p61-ckdatabasews.icloud.com:443/database/1/x?clientId=a&dsid=1')).toBe(
      `https://p61-ckdatabasews.icloud.com/database/1/x?${REDACTED}`,
    );
  });
});

describe('logger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('never prints a Secret or a signed query string', () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const logger = createLogger({ level: 'DEBUG', destination: 'stderr' });
    logger.info('download failed', {
      token: new Secret('tok-abc'),
      url: 'https://cvws.icloud-content.com/B/x?s=signature-xyz',
    });
    const out = lines.join('');
    expect(out).toContain('download failed');
    expect(out).not.toContain('tok-abc');
    expect(out).not.toContain('signature-xyz');
  });

  it('scrubs strings in the JSON replacer', () => {
    expect(redactingReplacer('k', 'Cookie: a=b')).toBe(`Cookie: ${REDACTED}`);
  });
});
