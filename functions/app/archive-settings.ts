/**
 * Records the settings a detection run used with the archive's state (`#domain/model/archive-settings.ts`),
 * the one owner of that record: one strongly consistent read per run, a write only when a setting
 * changed. A lost race (two runs at once) or a failed write leaves the record for the next run.
 */
import {
  type ArchiveSettingsUsed,
  type SettingsNotice,
  settingsAfterRun,
  settingsNotices,
} from '#domain/model/archive-settings.ts';
import type { DetectionStateStore } from '#ports/sync-state-store.ts';
import type { Logger } from '#shared/logger.ts';

/** The notices this run raised (a setting widened or switched on now), to tell the person once. */
export async function recordArchiveSettings(
  state: Pick<DetectionStateStore, 'loadArchiveSettings' | 'saveArchiveSettings'>,
  used: ArchiveSettingsUsed,
  at: number,
  logger: Logger,
): Promise<SettingsNotice[]> {
  try {
    const recorded = await state.loadArchiveSettings();
    const next = settingsAfterRun(recorded, used, at);
    if (next === undefined) return [];
    await state.saveArchiveSettings(next, recorded?.revision ?? 0);
    const before = new Set(settingsNotices(recorded).map((n) => n.kind));
    const raised = settingsNotices(next).filter((n) => !before.has(n.kind));
    for (const notice of raised)
      logger.warn('archive setting changed', { notice: notice.kind, message: notice.message });
    return raised;
  } catch (error) {
    logger.warn('archive settings not recorded', { error });
    return [];
  }
}
