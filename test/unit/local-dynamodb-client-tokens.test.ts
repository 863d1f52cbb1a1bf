import { describe, expect, it } from 'vitest';
import { ClientTokens } from '#local/servers/dynamodb-client-tokens.ts';

const MINUTE = 60_000;

describe("the local DynamoDB's TransactWriteItems client tokens", () => {
  function tokens() {
    let now = 0;
    return { tokens: new ClientTokens(() => now), advance: (ms: number) => (now += ms) };
  }

  it('knows a token that completed a transaction for 10 minutes after it completed', () => {
    const { tokens: known, advance } = tokens();
    expect(known.check('t', 'request')).toBe('new');
    known.start('t', 'request');
    expect(known.check('t', 'request')).toBe('running');
    expect(known.check('t', 'another request')).toBe('mismatch');
    advance(5 * MINUTE);
    known.finish('t', 'request', true);
    advance(10 * MINUTE - 1);
    expect(known.check('t', 'request')).toBe('completed');
    expect(known.check('t', 'another request')).toBe('mismatch');
    advance(1);
    expect(known.check('t', 'another request')).toBe('new');
  });

  it('forgets the token of a cancelled transaction, so a retry runs afresh', () => {
    const { tokens: known } = tokens();
    known.start('t', 'request');
    known.finish('t', 'request', false);
    expect(known.check('t', 'request')).toBe('new');
    expect(known.check('t', 'another request')).toBe('new');
  });

  it('forgets the oldest tokens first and keeps the younger ones', () => {
    const { tokens: known, advance } = tokens();
    known.finish('old', 'a', true);
    advance(6 * MINUTE);
    known.finish('young', 'b', true);
    advance(5 * MINUTE);
    expect(known.check('old', 'a')).toBe('new');
    expect(known.check('young', 'b')).toBe('completed');
  });
});
