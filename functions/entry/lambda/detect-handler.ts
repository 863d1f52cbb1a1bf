/**
 * The change detector's event mapping: an EventBridge tick becomes one detection run named by
 * the invocation's request id, with the invocation's remaining time as its deadline.
 */
import type { Context } from 'aws-lambda';
import { type DetectionRunDeps, type DetectionRunResult, runDetection } from '#app/detection-run.ts';

export function createDetectHandler(deps: DetectionRunDeps) {
  return (_event: unknown, context: Context): Promise<DetectionRunResult> =>
    runDetection(deps, {
      runId: context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
    });
}
