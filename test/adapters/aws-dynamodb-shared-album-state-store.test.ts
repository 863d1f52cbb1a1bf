import { afterAll, beforeAll } from 'vitest';
import { DynamoDbSharedAlbumStateStore } from '#adapters/aws/dynamodb-shared-album-state-store.ts';
import { describeSharedAlbumStateStoreContract } from '#test/fakes/contracts/shared-album-state-store-contract.ts';
import { InMemorySharedAlbumStateStore } from '#test/fakes/in-memory-shared-album-state-store.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';

let local: TestAws;
beforeAll(async () => {
  local = await startTestAws();
});
afterAll(async () => {
  await local.stop();
});

describeSharedAlbumStateStoreContract('DynamoDbSharedAlbumStateStore on dynalite', async () => {
  const tableName = await local.createTable();
  return new DynamoDbSharedAlbumStateStore({ client: local.documents, tableName });
});

describeSharedAlbumStateStoreContract(
  'InMemorySharedAlbumStateStore',
  async () => new InMemorySharedAlbumStateStore(),
);
