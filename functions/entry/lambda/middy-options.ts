/**
 * How both Lambda entries use middy: Powertools' `injectLambdaContext` adds the request id and
 * cold-start flag to every log line, and `logMetrics` publishes the invocation's metrics (also
 * when it throws).
 *
 * Middy's early-timeout race stays off: it would answer in place of the handler, and the download
 * worker's partial batch response (which records failed) would be lost with it. The use cases
 * keep their own deadline, `deadlineReserveMs` before the end, and still return a full answer.
 */
export const MIDDY_OPTIONS = { timeoutEarlyInMillis: 0 } as const;
