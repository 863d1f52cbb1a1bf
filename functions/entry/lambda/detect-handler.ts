/**
 * The change detector's event mapping: an EventBridge tick first gives dead-lettered work that is
 * due another try (self-healing; a failure there never stops detection), then becomes one
 * detection run named by the invocation's request id, with the invocation's remaining time as its
 * deadline.
 */
import type { Context } from 'aws-lambda';
import { type DetectionRunDeps, type DetectionRunResult, runDetection } from '#app/detection-run.ts';
import { type RedriveDeps, redriveDeadLetters } from '#app/redrive-dead-letters.ts';

export function createDetectHandler(deps: DetectionRunDeps, redrive?: RedriveDeps) {
  return async (_event: unknown, context: Context): Promise<DetectionRunResult> => {
    if (redrive !== undefined) {
      await redriveDeadLetters(redrive).catch((error: unknown) =>
        redrive.logger.warn('dead-letter redrive failed; the next run tries again', { error }),
      );
    }
    return runDetection(deps, {
      runId: context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
    });
  };
}
