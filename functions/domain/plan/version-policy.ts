/**
 * Which versions of an asset the archive keeps, and the compact `VERSION_POLICY` string that
 * configures it. The original is always archived: it is the one thing that cannot be
 * recreated, so no setting turns it off.
 */
import { InvalidInputError } from '#domain/errors.ts';

export interface VersionPolicy {
  /** The motion video of a Live Photo, stored beside its still (`IMG_0001_HEVC.MOV`). */
  readonly live: boolean;
  /** The second half of a RAW+JPEG pair (`IMG_0001.CR2` beside `IMG_0001.JPG`). */
  readonly alternative: boolean;
  /** The edited rendition (and the edited Live Photo video), as its own object beside the original. */
  readonly adjusted: boolean;
  /**
   * The JPEG that Apple's ScreenshotServices renders of every screenshot's PNG. It is not an
   * edit the person made, and the PNG holds the same pixels, so it is opt-in. A screenshot
   * the person really edits gets an ordinary adjustment and is archived under `adjusted`.
   */
  readonly screenshotRender: boolean;
  /** Apple's medium-size derivatives (`-medium`): previews, opt-in. */
  readonly medium: boolean;
  /** Apple's thumbnails (`-thumb`): previews, opt-in. */
  readonly thumb: boolean;
}

/** Original, Live Photo video, both RAW+JPEG halves, and edits; no previews, no screenshot renders. */
export const DEFAULT_VERSION_POLICY: VersionPolicy = Object.freeze({
  live: true,
  alternative: true,
  adjusted: true,
  screenshotRender: false,
  medium: false,
  thumb: false,
});

const ORIGINAL_ONLY: VersionPolicy = {
  live: false,
  alternative: false,
  adjusted: false,
  screenshotRender: false,
  medium: false,
  thumb: false,
};

const WORDS = {
  live: 'live',
  alternative: 'alternative',
  adjusted: 'adjusted',
  'screenshot-render': 'screenshotRender',
  medium: 'medium',
  thumb: 'thumb',
} as const satisfies Record<string, keyof VersionPolicy>;

type Word = keyof typeof WORDS;

/** Every word `parseVersionPolicy` accepts (a `-` before a version word removes it). */
export const VERSION_POLICY_WORDS: readonly string[] = ['default', 'original', ...Object.keys(WORDS)];

function isWord(token: string): token is Word {
  return Object.hasOwn(WORDS, token);
}

/**
 * Parses a comma-separated `VERSION_POLICY`, read left to right from "original only":
 * `default` adds the defaults, a version word adds it, `-word` removes it, `original` is
 * accepted for readability. Unset or blank means `default`.
 *
 * Examples: `default,medium` (defaults plus medium), `default,-adjusted` (no edits),
 * `original,live` (exactly those two).
 *
 * @throws InvalidInputError for an unknown or empty word, or `-original`, naming the valid words.
 */
export function parseVersionPolicy(text: string | undefined): VersionPolicy {
  if (text === undefined || text.trim() === '') return DEFAULT_VERSION_POLICY;
  const policy: { -readonly [K in keyof VersionPolicy]: boolean } = { ...ORIGINAL_ONLY };
  for (const raw of text.split(',')) {
    const token = raw.trim().toLowerCase();
    const removes = token.startsWith('-');
    const word = removes ? token.slice(1) : token;
    if (word === 'default' && !removes) {
      Object.assign(policy, DEFAULT_VERSION_POLICY);
    } else if (word === 'original') {
      if (removes) throw invalid(`"-original" is not allowed: the original is always archived`);
    } else if (isWord(word)) {
      policy[WORDS[word]] = !removes;
    } else {
      throw invalid(`unknown word "${raw.trim()}"`);
    }
  }
  return Object.freeze(policy);
}

/** The canonical `VERSION_POLICY` string for `policy` (what `parseVersionPolicy` reads back to it). */
export function formatVersionPolicy(policy: VersionPolicy): string {
  const words = Object.entries(WORDS)
    .filter(([, field]) => policy[field])
    .map(([word]) => word);
  return ['original', ...words].join(',');
}

function invalid(problem: string): InvalidInputError {
  return new InvalidInputError(
    `VERSION_POLICY: ${problem}. Valid words: ${VERSION_POLICY_WORDS.join(', ')} (prefix a version with "-" to remove it)`,
  );
}
