/**
 * dynalite parses every expression of every request (condition, update, key condition, filter,
 * projection) with generated PEG parsers, which a first sync's writes pay for again and again for
 * the same few expressions: every Put of a transaction carries `attribute_not_exists(pk)`. This
 * keeps the last parses, keyed by everything a parse reads: the parser, the expression, whether it
 * is a key condition, and the request's ExpressionAttributeNames and ExpressionAttributeValues
 * (the parser puts the values themselves into its result and judges them), the most recently used
 * kept. A parse that fails is not kept, so errors are found and worded as before.
 *
 * A parse also marks the names and values it used (dynalite refuses a request that leaves one
 * unused); a parse from the cache marks the same ones. Each caller gets its own copy of the
 * result, since dynalite's UpdateItem changes the parsed update while applying it.
 */
import type { DynaliteModules } from './dynalite-modules.ts';

/** Marks a parser already wrapped: the parsers are CommonJS modules, shared by whatever loads this file. */
const CACHED: unique symbol = Symbol.for('icloud-s3.dynalite-expression-cache');

interface ParseContext {
  attrNames?: Record<string, unknown>;
  attrVals?: Record<string, unknown>;
  unusedAttrNames?: Record<string, unknown>;
  unusedAttrVals?: Record<string, unknown>;
  isKeyCondition?: boolean;
}

interface Parser {
  parse(expression: string, options: { context: ParseContext }): unknown;
  [CACHED]?: true;
}

interface Parse {
  readonly result: unknown;
  readonly usedNames: readonly string[];
  readonly usedValues: readonly string[];
}

/**
 * The expressions the state store repeats (their values included) are a few dozen; the rest, whose
 * values change with every request, pass through. At most a few MB even with the longest keys.
 */
const MAX_ENTRIES = 1_000;
/** A larger key (large values) is parsed every time rather than kept. */
const MAX_KEY_LENGTH = 8_192;

const PARSERS = ['conditionParser', 'updateParser', 'projectionParser'] as const;

function used(before: readonly string[], after: Record<string, unknown> | undefined): string[] {
  return after === undefined ? [] : before.filter((key) => !(key in after));
}

function cacheParses(name: string, parser: Parser, cache: Map<string, Parse>): void {
  if (parser[CACHED]) return;
  parser[CACHED] = true;
  const parse = parser.parse.bind(parser);
  parser.parse = (expression, options) => {
    const { context } = options;
    const key = [
      name,
      context.isKeyCondition === true ? 'key' : '',
      expression,
      JSON.stringify(context.attrNames ?? null),
      JSON.stringify(context.attrVals ?? null),
    ].join('\u0000');
    if (key.length > MAX_KEY_LENGTH) return parse(expression, options);
    const known = cache.get(key);
    if (known !== undefined) {
      // The most recently used last: the first entry is the one to drop when full.
      cache.delete(key);
      cache.set(key, known);
      for (const usedName of known.usedNames) delete context.unusedAttrNames?.[usedName];
      for (const usedValue of known.usedValues) delete context.unusedAttrVals?.[usedValue];
      return structuredClone(known.result);
    }
    const namesBefore = Object.keys(context.unusedAttrNames ?? {});
    const valuesBefore = Object.keys(context.unusedAttrVals ?? {});
    const result = parse(expression, options);
    // A refusal comes back as its message (or thrown, for a syntax error): parsed again next time.
    if (typeof result === 'string') return result;
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
    cache.set(key, {
      result: structuredClone(result),
      usedNames: used(namesBefore, context.unusedAttrNames),
      usedValues: used(valuesBefore, context.unusedAttrVals),
    });
    return result;
  };
}

/** Wraps dynalite's three expression parsers once (they are shared by every server in the process). */
export function cacheExpressionParses(modules: Pick<DynaliteModules, 'require'>): void {
  const cache = new Map<string, Parse>();
  for (const name of PARSERS) cacheParses(name, modules.require(`./db/${name}`) as Parser, cache);
}
