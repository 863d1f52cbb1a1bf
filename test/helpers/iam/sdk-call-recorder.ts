/**
 * Records every AWS call a deployed function's SDK clients make, as the IAM requests AWS would
 * authorize for it: a middleware in each client's stack (`build` step: after the document
 * client's marshalling, once per call whatever the retries) maps the command and its input to
 * the IAM action(s) it needs, the resource each acts on and, for DynamoDB, the partition key of
 * every item it touches (`dynamodb:LeadingKeys`).
 *
 * How commands map to IAM actions (the AWS pages this follows):
 * - S3: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html,
 *   the "Permissions" sections of https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html,
 *   API_CopyObject.html, API_HeadObject.html, API_DeleteObject.html (with `If-Match`, also
 *   s3:GetObject: AmazonS3/latest/userguide/conditional-deletes.html), and multipart uploads:
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
 *   (CreateMultipartUpload, UploadPart, CompleteMultipartUpload are s3:PutObject; tags sent with
 *   an object (`x-amz-tagging`) also need s3:PutObjectTagging; a copy reads its source as
 *   s3:GetObject, and copies its tags (the default `COPY` directive) with s3:GetObjectTagging;
 *   UploadPartCopy reads its source as s3:GetObject and writes the part as s3:PutObject).
 * - DynamoDB: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html;
 *   a transaction's Put/Update/Delete are authorized as PutItem/UpdateItem/DeleteItem and its
 *   ConditionCheck as dynamodb:ConditionCheckItem, item by item:
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html;
 *   `dynamodb:LeadingKeys` holds the partition keys of the items a request touches:
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
 * - SQS (a batch call is authorized as its single action):
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
 * - Secrets Manager: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
 *
 * A command with no mapping here throws: a new kind of call must be taught, never skipped.
 */
import type { AwsSdkClient } from '#compose/lambda.ts';

/** What an IAM request acts on, by the names the function used (the evaluator makes ARNs of them). */
export type IamResource =
  | { readonly kind: 's3Object'; readonly bucket: string; readonly key: string }
  | { readonly kind: 's3Bucket'; readonly bucket: string }
  | { readonly kind: 'dynamodbTable'; readonly table: string; readonly index?: string }
  | { readonly kind: 'sqsQueue'; readonly queueUrl: string }
  | { readonly kind: 'secret'; readonly secretId: string }
  /** The KMS key that encrypts `bucket` (SSE-KMS): only where the stack has one. */
  | { readonly kind: 'kmsKey'; readonly bucket: string };

/** One action AWS authorizes for a call (a call may need several). */
export interface IamRequest {
  readonly action: string;
  readonly resource: IamResource;
  /** DynamoDB: the partition keys of the items this request touches. */
  readonly leadingKeys?: readonly string[];
}

export interface RecordedCall {
  /** The function whose client made it (`detector`, `workers`). */
  readonly fn: string;
  /** `S3.PutObject`, `DynamoDB.TransactWriteItems`, ... */
  readonly call: string;
  readonly requests: readonly IamRequest[];
  /** What S3 asks KMS with the caller's permissions when the bucket is SSE-KMS encrypted. */
  readonly sseKmsRequests: readonly IamRequest[];
}

type Input = Record<string, unknown>;
type AttributeMap = Record<string, { S?: string; N?: string; B?: unknown } | undefined>;

/** Client class name -> the service's name in a call's label (`S3.PutObject`). */
const SERVICES: Record<string, string> = {
  S3Client: 'S3',
  DynamoDBClient: 'DynamoDB',
  SQSClient: 'SQS',
  SecretsManagerClient: 'SecretsManager',
};

const str = (input: Input, field: string): string => {
  const value = input[field];
  if (typeof value !== 'string')
    throw new Error(`expected ${field} to be a string in ${JSON.stringify(input)}`);
  return value;
};

function s3Requests(command: string, input: Input): IamRequest[] {
  const bucket = str(input, 'Bucket');
  const object = (): IamResource => ({ kind: 's3Object', bucket, key: str(input, 'Key') });
  const versioned = (plain: string, withVersion: string) =>
    input['VersionId'] === undefined ? plain : withVersion;
  const tagged = input['Tagging'] !== undefined && input['Tagging'] !== '';
  const lock = [
    'ObjectLockMode',
    'ObjectLockRetainUntilDate',
    'ObjectLockLegalHoldStatus',
    'ACL',
    'GrantFullControl',
  ];
  const refuseUnmodelled = () => {
    const unmodelled = lock.filter((field) => input[field] !== undefined);
    if (unmodelled.length > 0)
      throw new Error(`S3.${command} sends ${unmodelled.join(', ')}: map its IAM actions first`);
  };
  switch (command) {
    case 'HeadObject':
    case 'GetObject':
      return [{ action: versioned('s3:GetObject', 's3:GetObjectVersion'), resource: object() }];
    case 'PutObject':
    case 'CreateMultipartUpload':
      refuseUnmodelled();
      return [
        { action: 's3:PutObject', resource: object() },
        ...(tagged ? [{ action: 's3:PutObjectTagging', resource: object() }] : []),
      ];
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      return [{ action: 's3:PutObject', resource: object() }];
    case 'AbortMultipartUpload':
      return [{ action: 's3:AbortMultipartUpload', resource: object() }];
    case 'ListParts':
      return [{ action: 's3:ListMultipartUploadParts', resource: object() }];
    case 'CopyObject': {
      refuseUnmodelled();
      const source = parseCopySource(str(input, 'CopySource'));
      const sourceObject: IamResource = { kind: 's3Object', bucket: source.bucket, key: source.key };
      const copiesTags = input['TaggingDirective'] === undefined || input['TaggingDirective'] === 'COPY';
      return [
        { action: source.versionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: sourceObject },
        { action: 's3:PutObject', resource: object() },
        ...(copiesTags
          ? [
              {
                action: source.versionId ? 's3:GetObjectVersionTagging' : 's3:GetObjectTagging',
                resource: sourceObject,
              },
              { action: 's3:PutObjectTagging', resource: object() },
            ]
          : // REPLACE writes the request's tag set (empty here or not): counted as tagging the target.
            [{ action: 's3:PutObjectTagging', resource: object() }]),
      ];
    }
    case 'UploadPartCopy': {
      // Reads its source as s3:GetObject (a version as s3:GetObjectVersion), writes the part as
      // s3:PutObject: https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
      const source = parseCopySource(str(input, 'CopySource'));
      return [
        {
          action: source.versionId ? 's3:GetObjectVersion' : 's3:GetObject',
          resource: { kind: 's3Object', bucket: source.bucket, key: source.key },
        },
        { action: 's3:PutObject', resource: object() },
      ];
    }
    case 'DeleteObject':
      return [
        { action: versioned('s3:DeleteObject', 's3:DeleteObjectVersion'), resource: object() },
        // A conditional delete (`If-Match`) also reads the object's ETag: s3:GetObject
        // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html).
        ...(input['IfMatch'] === undefined ? [] : [{ action: 's3:GetObject', resource: object() }]),
        ...(input['BypassGovernanceRetention']
          ? [{ action: 's3:BypassGovernanceRetention', resource: object() }]
          : []),
      ];
    case 'DeleteObjects': {
      const objects =
        (input['Delete'] as { Objects?: { Key: string; VersionId?: string }[] } | undefined)?.Objects ?? [];
      return objects.map((o) => ({
        action: o.VersionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion',
        resource: { kind: 's3Object', bucket, key: o.Key },
      }));
    }
    case 'GetObjectTagging':
    case 'PutObjectTagging':
    case 'DeleteObjectTagging':
      return [
        {
          action: `s3:${versioned(command, command.replace('Object', 'ObjectVersion'))}`,
          resource: object(),
        },
      ];
    case 'ListObjectsV2':
    case 'ListObjects':
    case 'HeadBucket':
      return [{ action: 's3:ListBucket', resource: { kind: 's3Bucket', bucket } }];
    case 'ListObjectVersions':
      return [{ action: 's3:ListBucketVersions', resource: { kind: 's3Bucket', bucket } }];
    case 'ListMultipartUploads':
      return [{ action: 's3:ListBucketMultipartUploads', resource: { kind: 's3Bucket', bucket } }];
    default:
      throw new Error(`S3.${command}: no IAM mapping in test/helpers/iam/sdk-call-recorder.ts; add one`);
  }
}

/**
 * The KMS requests S3 makes on the caller's behalf for an SSE-KMS bucket: writing an object needs
 * kms:GenerateDataKey, reading it kms:Decrypt, a multipart upload both (S3 decrypts the parts to
 * complete it), a copy Decrypt on the source and GenerateDataKey on the target; heads, lists,
 * deletes and aborts none. https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
 * and https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
 */
function sseKmsRequestsOf(command: string, input: Input): IamRequest[] {
  const key = (bucket: string): IamResource => ({ kind: 'kmsKey', bucket });
  const bucket = typeof input['Bucket'] === 'string' ? input['Bucket'] : '';
  switch (command) {
    case 'PutObject':
      return [{ action: 'kms:GenerateDataKey', resource: key(bucket) }];
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      return [
        { action: 'kms:GenerateDataKey', resource: key(bucket) },
        { action: 'kms:Decrypt', resource: key(bucket) },
      ];
    case 'GetObject':
      return [{ action: 'kms:Decrypt', resource: key(bucket) }];
    case 'CopyObject':
    case 'UploadPartCopy':
      return [
        { action: 'kms:Decrypt', resource: key(parseCopySource(str(input, 'CopySource')).bucket) },
        { action: 'kms:GenerateDataKey', resource: key(bucket) },
      ];
    default:
      return [];
  }
}

/** `bucket/key` (each key segment percent-encoded), optionally `?versionId=`. */
function parseCopySource(copySource: string): { bucket: string; key: string; versionId?: string } {
  const [path = '', query] = copySource.replace(/^\//, '').split('?');
  const slash = path.indexOf('/');
  const versionId =
    query === undefined ? undefined : (new URLSearchParams(query).get('versionId') ?? undefined);
  return {
    bucket: path.slice(0, slash),
    key: decodeURIComponent(path.slice(slash + 1)),
    ...(versionId === undefined ? {} : { versionId }),
  };
}

/** The partition key of an item (or key) in wire form; throws when it is not a string attribute. */
function partitionKeyOf(item: AttributeMap | undefined, partitionKey: string, where: string): string {
  const value = item?.[partitionKey]?.S;
  if (value === undefined) throw new Error(`${where}: no string ${partitionKey} in ${JSON.stringify(item)}`);
  return value;
}

/** The partition key value a Query's `KeyConditionExpression` fixes (`pk = :pk`, names resolved). */
function queriedPartition(input: Input, partitionKey: string): string {
  const expression = str(input, 'KeyConditionExpression');
  const names = (input['ExpressionAttributeNames'] ?? {}) as Record<string, string>;
  const values = (input['ExpressionAttributeValues'] ?? {}) as AttributeMap;
  for (const match of expression.matchAll(/(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/g)) {
    const name = match[1]!.startsWith('#') ? names[match[1]!] : match[1];
    if (name === partitionKey)
      return partitionKeyOf({ [partitionKey]: values[match[2]!] }, partitionKey, 'Query');
  }
  throw new Error(`Query: no equality on ${partitionKey} in "${expression}"`);
}

function dynamodbRequests(command: string, input: Input, partitionKey: string): IamRequest[] {
  const table = (name: string, index?: unknown): IamResource => ({
    kind: 'dynamodbTable',
    table: name,
    ...(typeof index === 'string' ? { index } : {}),
  });
  const item = (action: string, body: Input, field: 'Key' | 'Item', where: string): IamRequest => ({
    action: `dynamodb:${action}`,
    resource: table(str(body, 'TableName')),
    leadingKeys: [partitionKeyOf(body[field] as AttributeMap, partitionKey, where)],
  });
  switch (command) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [item(command, input, 'Key', command)];
    case 'PutItem':
      return [item(command, input, 'Item', command)];
    case 'Query':
      return [
        {
          action: 'dynamodb:Query',
          resource: table(str(input, 'TableName'), input['IndexName']),
          leadingKeys: [queriedPartition(input, partitionKey)],
        },
      ];
    case 'BatchGetItem':
      return Object.entries(input['RequestItems'] as Record<string, { Keys: AttributeMap[] }>).map(
        ([name, req]) => ({
          action: 'dynamodb:BatchGetItem',
          resource: table(name),
          leadingKeys: req.Keys.map((key) => partitionKeyOf(key, partitionKey, 'BatchGetItem')),
        }),
      );
    case 'BatchWriteItem':
      return Object.entries(
        input['RequestItems'] as Record<
          string,
          { PutRequest?: { Item: AttributeMap }; DeleteRequest?: { Key: AttributeMap } }[]
        >,
      ).map(([name, writes]) => ({
        action: 'dynamodb:BatchWriteItem',
        resource: table(name),
        leadingKeys: writes.map((w) =>
          partitionKeyOf(w.PutRequest?.Item ?? w.DeleteRequest?.Key, partitionKey, 'BatchWriteItem'),
        ),
      }));
    case 'TransactWriteItems':
      return (input['TransactItems'] as Record<string, Input>[]).map((entry) => {
        const [kind, body] = Object.entries(entry).find(([, v]) => v !== undefined) ?? [];
        if (body === undefined) throw new Error(`TransactWriteItems: empty item ${JSON.stringify(entry)}`);
        switch (kind) {
          case 'Put':
            return item('PutItem', body, 'Item', 'TransactWriteItems.Put');
          case 'Update':
            return item('UpdateItem', body, 'Key', 'TransactWriteItems.Update');
          case 'Delete':
            return item('DeleteItem', body, 'Key', 'TransactWriteItems.Delete');
          case 'ConditionCheck':
            return item('ConditionCheckItem', body, 'Key', 'TransactWriteItems.ConditionCheck');
          default:
            throw new Error(`TransactWriteItems: unknown item kind ${kind}`);
        }
      });
    case 'TransactGetItems':
      return (input['TransactItems'] as { Get: Input }[]).map((entry) =>
        item('GetItem', entry.Get, 'Key', 'TransactGetItems.Get'),
      );
    default:
      throw new Error(
        `DynamoDB.${command}: no IAM mapping in test/helpers/iam/sdk-call-recorder.ts; add one`,
      );
  }
}

const SQS_ACTIONS: Record<string, string> = {
  SendMessage: 'sqs:SendMessage',
  SendMessageBatch: 'sqs:SendMessage',
  ReceiveMessage: 'sqs:ReceiveMessage',
  DeleteMessage: 'sqs:DeleteMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
  ChangeMessageVisibilityBatch: 'sqs:ChangeMessageVisibility',
  GetQueueAttributes: 'sqs:GetQueueAttributes',
};

const SECRETS_ACTIONS = new Set(['GetSecretValue', 'PutSecretValue', 'DescribeSecret']);

/** The IAM requests one call needs. */
export function iamRequestsOf(
  clientName: string,
  command: string,
  input: Input,
  options: { readonly partitionKey: string },
): IamRequest[] {
  switch (clientName) {
    case 'S3Client':
      return s3Requests(command, input);
    case 'DynamoDBClient':
      return dynamodbRequests(command, input, options.partitionKey);
    case 'SQSClient': {
      const action = SQS_ACTIONS[command];
      if (action === undefined) throw new Error(`SQS.${command}: no IAM mapping; add one`);
      return [{ action, resource: { kind: 'sqsQueue', queueUrl: str(input, 'QueueUrl') } }];
    }
    case 'SecretsManagerClient':
      if (!SECRETS_ACTIONS.has(command))
        throw new Error(`SecretsManager.${command}: no IAM mapping; add one`);
      return [
        {
          action: `secretsmanager:${command}`,
          resource: { kind: 'secret', secretId: str(input, 'SecretId') },
        },
      ];
    default:
      throw new Error(`calls of ${clientName} cannot be mapped to IAM actions; add the service`);
  }
}

/** Header of every request a recorded client sends. */
export const RECORDED_HEADER = 'x-iam-coverage-recorded';
/** Header of every request the test's own clients send. */
export const HARNESS_HEADER = 'x-iam-coverage-harness';

type Context = { readonly clientName?: string; readonly commandName?: string };

function addBuildMiddleware(
  client: AwsSdkClient,
  name: string,
  header: string,
  onCall: (context: Context, input: Input) => void,
): void {
  const stack = client.middlewareStack as unknown as {
    add(middleware: unknown, options: { step: string; name: string; priority: string }): void;
  };
  stack.add(
    (next: (args: { input: Input; request?: unknown }) => Promise<unknown>, context: Context) =>
      async (args: { input: Input; request?: unknown }) => {
        onCall(context, args.input);
        const request = args.request as { headers?: Record<string, string> } | undefined;
        if (request?.headers !== undefined) request.headers[header] = '1';
        return next(args);
      },
    { step: 'build', name, priority: 'high' },
  );
}

/** Collects the calls of the clients it is attached to. */
export class SdkCallRecorder {
  readonly calls: RecordedCall[] = [];
  /** Calls that could not be mapped (the error says which): the test fails on any. */
  readonly unmapped: string[] = [];
  constructor(private readonly options: { readonly partitionKey: string }) {}

  /**
   * Adds the recording middleware to `client`, attributing its calls to `fn`. Each request also
   * carries `RECORDED_HEADER`, so a request without it (`unmarkedRequests`) came from a client
   * nobody attached: a call that would go unchecked.
   */
  attach(fn: string, client: AwsSdkClient): void {
    addBuildMiddleware(client, 'iamCoverageRecorder', RECORDED_HEADER, (context, input) =>
      this.record(fn, context.clientName ?? client.constructor.name, context.commandName ?? '?', input),
    );
  }

  /** Marks the requests of a client the test itself uses (setup, the local SQS poller): not a function's. */
  markHarness(client: AwsSdkClient): void {
    addBuildMiddleware(client, 'iamCoverageHarness', HARNESS_HEADER, () => undefined);
  }

  private record(fn: string, clientName: string, commandName: string, input: Input): void {
    const command = commandName.replace(/Command$/, '');
    const service = SERVICES[clientName] ?? clientName;
    try {
      this.calls.push({
        fn,
        call: `${service}.${command}`,
        requests: iamRequestsOf(clientName, command, input, this.options),
        sseKmsRequests: clientName === 'S3Client' ? sseKmsRequestsOf(command, input) : [],
      });
    } catch (error) {
      this.unmapped.push(`${fn}: ${(error as Error).message}`);
    }
  }
}
