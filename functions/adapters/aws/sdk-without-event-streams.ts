/**
 * What the Lambda bundles put in place of `@smithy/core/event-streams` (an esbuild alias,
 * infra/lambda-bundle-aliases.ts): the AWS SDK's event-stream codec, about 15 KB of each bundle,
 * for operations that stream events (S3 SelectObjectContent, Bedrock, Transcribe…), none of
 * which the functions call. It is in the bundles only because the protocols load it with a
 * dynamic `import()` (a namespace esbuild keeps whole), and the S3 client builds a marshaller at
 * construction whether an operation streams or not.
 *
 * The client still builds its marshaller (construction must not fail); using it, or the serde the
 * protocols load for an operation with an event-stream member, throws `EventStreamsLeftOutError`.
 * The CLI, the local runtime and the tests keep the real module.
 */

/** Thrown when a bundled SDK client meets an operation that streams events. */
export class EventStreamsLeftOutError extends Error {
  constructor() {
    // Short: it is in both Lambda bundles, a few bytes under their cap.
    super('leaves out the AWS SDK event-stream codec (infra/lambda-bundle-aliases.ts)');
    this.name = 'EventStreamsLeftOutError';
  }
}

function leftOut(): never {
  throw new EventStreamsLeftOutError();
}

/** The marshaller's shape as the SDK calls it. */
export interface LeftOutEventStreamMarshaller {
  serialize(input: unknown, serializer: unknown): never;
  deserialize(body: unknown, deserializer: unknown): never;
}

/** Same name and contract as the module's: a marshaller, here one that refuses every use. */
export const eventStreamSerdeProvider = (_options?: unknown): LeftOutEventStreamMarshaller => ({
  serialize: leftOut,
  deserialize: leftOut,
});

/** Same as the module's: the client config gains its marshaller, built by its provider. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (input: T) => unknown }>(
  input: T,
): T & { eventStreamMarshaller: unknown } =>
  Object.assign(input, { eventStreamMarshaller: input.eventStreamSerdeProvider(input) });

/** What the protocols build for an event-stream member (by dynamic import): refused at once. */
export class EventStreamSerde {
  constructor(_options?: unknown) {
    leftOut();
  }
}
