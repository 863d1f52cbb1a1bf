import { describeAlbumStoreContract } from '#test/fakes/contracts/album-store-contract.ts';
import { describeSyncStateStoreContract } from '#test/fakes/contracts/sync-state-store-contract.ts';
import { InMemorySyncStateStore } from '#test/fakes/in-memory-sync-state-store.ts';

describeSyncStateStoreContract(
  'InMemorySyncStateStore',
  async (clock) => new InMemorySyncStateStore({ now: clock.now }),
);

describeAlbumStoreContract('InMemorySyncStateStore', async () => new InMemorySyncStateStore());
