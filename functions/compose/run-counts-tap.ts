/**
 * The counts a local run's download workers add to the run records, seen on their way there. The
 * workers report what a message's Shared Albums stored to the run record of the detection that
 * handed them out, and nowhere else (app/shared-albums-work.ts): the local runtime's summary reads
 * them here, leaving the workers' code (and the Lambda bundle) as it is.
 */
import type { RunProgress, RunRef } from '#domain/model/run.ts';
import type { ArchiveStateStore } from '#ports/sync-state-store.ts';

/** `store`, telling `onCounts` each `addRunProgress`'s counts before they are written (written or not, the work is done). */
export function tappedRunCounts<S extends ArchiveStateStore>(
  store: S,
  onCounts: (counts: Readonly<Record<string, number>>) => void,
): S {
  const addRunProgress = (run: RunRef, progress: RunProgress) => {
    if (progress.counts !== undefined) onCounts(progress.counts);
    return store.addRunProgress(run, progress);
  };
  // A proxy, not a spread: the adapters are classes whose methods live on the prototype.
  return new Proxy(store, {
    get(target, property) {
      if (property === 'addRunProgress') return addRunProgress;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
