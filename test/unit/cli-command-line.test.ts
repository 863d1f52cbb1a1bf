import { describe, expect, it } from 'vitest';
import { asTyped, sameCommandWith } from '../../functions/cli/io/command-line.ts';

describe('sameCommandWith', () => {
  it('repeats what was typed with npx icloud-s3, adding the option', () => {
    expect(sameCommandWith('--repair', ['node', 'icloud-s3', 'verify', '--local', '/a/b'])).toBe(
      'npx icloud-s3 verify --local /a/b --repair',
    );
  });

  it('quotes words the shell would split or expand', () => {
    expect(sameCommandWith('--repair', ['node', 'x', 'verify', '--local', "my photos/it's"])).toBe(
      `npx icloud-s3 verify --local 'my photos/it'\\''s' --repair`,
    );
  });
});

describe('asTyped', () => {
  it('writes a next step the pipeline names as a person runs it in a checkout', () => {
    expect(asTyped('icloud-s3 login --aws')).toBe('npx icloud-s3 login --aws');
    expect(asTyped('npx icloud-s3 login')).toBe('npx icloud-s3 login');
  });
});
