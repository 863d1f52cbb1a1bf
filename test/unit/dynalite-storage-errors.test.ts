/**
 * The local DynamoDB answers a failed LevelDB read or write as a 500 (dynalite sends an error only
 * when it carries a `statusCode`, and throws any other inside a callback, uncaught: reliability
 * finding 108). Its own errors pass unchanged.
 */
import { describe, expect, it } from 'vitest';
import { asServerError } from '#local/servers/dynalite-storage-errors.ts';

describe('asServerError', () => {
  it("gives LevelDB's failure a 500 InternalServerError naming its reason", () => {
    const cause = Object.assign(new Error('IO error: /d/000012.log: No space left on device'), {
      code: 'LEVEL_IO_ERROR',
    });
    const error = Object.assign(new Error('Write failed'), { code: 'LEVEL_IO_ERROR', cause });
    expect(asServerError(error)).toMatchObject({
      statusCode: 500,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
        message:
          'local DynamoDB storage failed: Write failed: IO error: /d/000012.log: No space left on device',
      },
    });
  });

  it("leaves dynalite's own errors and no error alone", () => {
    const notFound = Object.assign(new Error('NotFoundError'), { name: 'NotFoundError' });
    const answered = Object.assign(new Error('x'), { statusCode: 400, body: { __type: 'y' } });
    expect(asServerError(notFound)).not.toHaveProperty('statusCode');
    expect(asServerError(answered)).toMatchObject({ statusCode: 400 });
    expect(asServerError(null)).toBeNull();
    expect(asServerError(undefined)).toBeUndefined();
  });
});
