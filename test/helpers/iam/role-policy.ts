/**
 * Decides whether a function's role (its inline policies in the synthesized template) allows an
 * IAM request, as IAM's identity-policy evaluation does: an explicit Deny wins, else some Allow
 * statement must match the action (wildcards, case-insensitive), the resource (ARN wildcards)
 * and every condition. The template's intrinsics (`Ref`, `Fn::GetAtt ... Arn`, `Fn::Join`,
 * pseudo parameters) are resolved to ARNs of the local resources the test runs against.
 *
 * Only the condition operators and keys the stack uses are implemented
 * (`ForAllValues:StringLike` on `dynamodb:LeadingKeys`): any other makes `RolePolicy` throw when
 * it is built, so a new condition is taught here rather than silently ignored.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
import type { IamRequest, IamResource } from './sdk-call-recorder.ts';

const PARTITION = 'aws';
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

/** The stack's resources, by logical id, as the local servers name them. */
export interface LocalResources {
  readonly bucket: { readonly logicalId: string; readonly name: string };
  readonly table: { readonly logicalId: string; readonly name: string };
  readonly queues: readonly { readonly logicalId: string; readonly url: string }[];
  readonly secret: { readonly logicalId: string; readonly id: string };
  /** The archive bucket's KMS key (SSE-KMS), when the synth has one. */
  readonly key?: { readonly logicalId: string };
}

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly NotAction?: unknown;
  readonly NotResource?: unknown;
}

/** Condition operators this evaluator implements, each with the keys it knows. */
const KNOWN_CONDITIONS: Record<string, readonly string[]> = {
  'ForAllValues:StringLike': ['dynamodb:LeadingKeys'],
};

const queueName = (url: string) => url.split('/').at(-1) ?? url;
const keyArn = (logicalId: string) => `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/${logicalId}`;
const secretArn = (id: string) => `arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`;

/** IAM's wildcard match: `*` any run of characters (`/` included), `?` one character. */
export function iamLike(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

export class TemplateResolver {
  constructor(private readonly local: LocalResources) {}

  /** A template value as a function's environment sees it (`Ref` of a queue is its URL, of a secret its id here). */
  env(value: unknown): string {
    return this.resolve(value, 'env');
  }

  /** A template value in a policy: ARNs; what the test does not know resolves to a value no request has. */
  policy(value: unknown): string {
    return this.resolve(value, 'policy');
  }

  /** The ARN of what a request acts on. */
  arnOf(resource: IamResource): string {
    switch (resource.kind) {
      case 's3Object':
        return `arn:${PARTITION}:s3:::${resource.bucket}/${resource.key}`;
      case 's3Bucket':
        return `arn:${PARTITION}:s3:::${resource.bucket}`;
      case 'dynamodbTable':
        return `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${resource.table}${
          resource.index === undefined ? '' : `/index/${resource.index}`
        }`;
      case 'sqsQueue':
        return `arn:${PARTITION}:sqs:${REGION}:${ACCOUNT}:${queueName(resource.queueUrl)}`;
      case 'secret':
        return resource.secretId.startsWith('arn:') ? resource.secretId : secretArn(resource.secretId);
      case 'kmsKey':
        if (this.local.key === undefined || resource.bucket !== this.local.bucket.name)
          throw new Error(`no KMS key is known for bucket ${resource.bucket}`);
        return keyArn(this.local.key.logicalId);
    }
  }

  private resolve(value: unknown, mode: 'env' | 'policy'): string {
    if (typeof value === 'string') return value;
    if (typeof value !== 'object' || value === null)
      throw new Error(`cannot resolve ${JSON.stringify(value)}`);
    const { local } = this;
    const unknown = (what: string) => {
      if (mode === 'env') throw new Error(`the test does not know ${what}: name it in LocalResources`);
      return `unresolved:${what}`;
    };
    if ('Ref' in value) {
      const ref = (value as { Ref: string }).Ref;
      const pseudo: Record<string, string> = {
        'AWS::Partition': PARTITION,
        'AWS::Region': REGION,
        'AWS::AccountId': ACCOUNT,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      if (pseudo[ref] !== undefined) return pseudo[ref];
      if (ref === local.bucket.logicalId) return local.bucket.name;
      if (ref === local.table.logicalId) return local.table.name;
      const queue = local.queues.find((q) => q.logicalId === ref);
      if (queue !== undefined) return queue.url;
      if (ref === local.secret.logicalId)
        return mode === 'env' ? local.secret.id : secretArn(local.secret.id);
      return unknown(`Ref ${ref}`);
    }
    if ('Fn::GetAtt' in value) {
      const [id, attribute] = (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      if (attribute === 'Arn') {
        if (id === local.bucket.logicalId) return this.arnOf({ kind: 's3Bucket', bucket: local.bucket.name });
        if (id === local.table.logicalId)
          return this.arnOf({ kind: 'dynamodbTable', table: local.table.name });
        const queue = local.queues.find((q) => q.logicalId === id);
        if (queue !== undefined) return this.arnOf({ kind: 'sqsQueue', queueUrl: queue.url });
        if (id === local.key?.logicalId) return keyArn(id);
      }
      return unknown(`Fn::GetAtt ${id}.${attribute}`);
    }
    if ('Fn::Join' in value) {
      const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      return parts.map((part) => this.resolve(part, mode)).join(separator);
    }
    throw new Error(`cannot resolve ${JSON.stringify(value)}: teach TemplateResolver this intrinsic`);
  }
}

/** Why a request is not allowed, or undefined when it is. */
export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly why: string };

export class RolePolicy {
  private readonly statements: readonly Statement[];

  constructor(
    statements: readonly unknown[],
    private readonly resolver: TemplateResolver,
  ) {
    this.statements = statements as Statement[];
    for (const statement of this.statements) {
      if (statement.NotAction !== undefined || statement.NotResource !== undefined)
        throw new Error(`NotAction/NotResource are not implemented: ${JSON.stringify(statement)}`);
      for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
        for (const key of Object.keys(keys)) {
          if (!KNOWN_CONDITIONS[operator]?.includes(key))
            throw new Error(
              `condition ${operator} on ${key} is not implemented by test/helpers/iam/role-policy.ts: teach it before relying on it (${JSON.stringify(statement)})`,
            );
        }
      }
    }
  }

  evaluate(request: IamRequest): Verdict {
    const arn = this.resolver.arnOf(request.resource);
    const matching = this.statements.filter(
      (s) =>
        [s.Action ?? []].flat().some((a) => iamLike(a, request.action, true)) &&
        [s.Resource ?? []].flat().some((r) => iamLike(this.resolver.policy(r), arn)),
    );
    const holding = matching.filter((s) => conditionsHold(s, request));
    if (holding.some((s) => s.Effect === 'Deny'))
      return { allowed: false, why: `explicitly denied on ${arn}` };
    if (holding.some((s) => s.Effect === 'Allow')) return { allowed: true };
    const keys =
      request.leadingKeys === undefined
        ? ''
        : ` for dynamodb:LeadingKeys [${request.leadingKeys.join(', ')}]`;
    const refusedBy = matching
      .filter((s) => s.Effect === 'Allow')
      .map((s) => JSON.stringify(s.Condition))
      .join('; ');
    return {
      allowed: false,
      why: `no grant of ${request.action} on ${arn}${keys}${refusedBy ? ` (the statements on it require ${refusedBy})` : ''}`,
    };
  }
}

function conditionsHold(statement: Statement, request: IamRequest): boolean {
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const patterns = [expected].flat() as string[];
      // Only ForAllValues:StringLike on dynamodb:LeadingKeys gets here (checked in the constructor).
      if (operator === 'ForAllValues:StringLike' && key === 'dynamodb:LeadingKeys') {
        // IAM: every value of the request's set must match a pattern (an empty set matches).
        const values = request.leadingKeys ?? [];
        if (!values.every((v) => patterns.some((p) => iamLike(p, v)))) return false;
      } else {
        throw new Error(`condition ${operator} ${key} not implemented`);
      }
    }
  }
  return true;
}
