/**
 * `ClientRequestToken`s of `TransactWriteItems`, as DynamoDB keeps them: a token that completed a
 * transaction stays valid for 10 minutes after it completed; the same request again within them
 * succeeds without being applied again, another request with it is refused. A cancelled
 * transaction changed nothing, so its token is not kept and a retry runs afresh. Kept in memory:
 * a restart of the local server forgets them (a retry after a restart runs again, and its
 * conditions decide).
 */
const TOKEN_LIFETIME_MS = 10 * 60 * 1000;

export type TokenState = 'new' | 'completed' | 'running' | 'mismatch';

export class ClientTokens {
  /** Token -> the request it completed and when; in completion order, so the oldest come first. */
  private readonly completed = new Map<string, { request: string; at: number }>();
  private readonly running = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** What `token` means for `request` (a digest of the request without its token). */
  check(token: string, request: string): TokenState {
    this.forgetExpired();
    const done = this.completed.get(token);
    if (done !== undefined) return done.request === request ? 'completed' : 'mismatch';
    const running = this.running.get(token);
    if (running !== undefined) return running === request ? 'running' : 'mismatch';
    return 'new';
  }

  start(token: string, request: string): void {
    this.running.set(token, request);
  }

  finish(token: string, request: string, applied: boolean): void {
    this.running.delete(token);
    if (!applied) return;
    this.completed.delete(token);
    this.completed.set(token, { request, at: this.now() });
  }

  private forgetExpired(): void {
    const oldest = this.now() - TOKEN_LIFETIME_MS;
    for (const [token, { at }] of this.completed) {
      if (at > oldest) break;
      this.completed.delete(token);
    }
  }
}
