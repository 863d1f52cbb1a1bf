/** A child job that reports progress and never answers: what a row that runs out of time looks like. */
import { isChildJob, reportProgress, serveChildJob } from '../../bench/support/child-job.ts';

if (isChildJob())
  serveChildJob<{ readonly bytes: number }, never>(async (job) => {
    reportProgress({ bytes: job.bytes, ms: 10 });
    return new Promise<never>(() => setInterval(() => undefined, 1000));
  });
