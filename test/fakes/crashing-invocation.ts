/**
 * Plays a Lambda invocation that dies: the process is gone at a chosen call to one of its ports,
 * while SQS, S3 and DynamoDB (the stores behind the ports) keep whatever was durable by then.
 *
 * A `CrashSchedule` numbers every port call of every invocation (1, 2, 3 ... across the whole
 * test) and kills the running invocation at the listed calls: `before` the call reaches the
 * store, `after` it did (the write is durable, the caller never learns), or `midStream` (a body
 * being streamed stops part-way; non-stream calls treat it as `after`). A `midStream` point whose
 * call got no body to cut (the request failed: an error reply, a refused URL) waits for the next
 * call to the same port that gets one (`carry`): the crash is drawn on a body, never spent on an
 * error. Likewise an `after` point whose call failed (nothing was written, so there is no "after"
 * to die in) moves to the next call to the same port that succeeds (`carryPastFailure`). Once an
 * invocation is
 * dead every further port call it makes throws `SimulatedCrash` and its abort signal has fired,
 * so nothing it does afterwards reaches a store: exactly what a killed process can do.
 */
import { Transform } from 'node:stream';

/** The process running the invocation died here. Never caught by the code under test on purpose. */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

export type CrashMoment = 'before' | 'after' | 'midStream';

export interface CrashPoint {
  /**
   * 1-based number of the port call, counted across every invocation of the schedule: of every
   * call, or with `on` of the calls to that port method only (`queue.enqueue`, `cdn.open`...), or
   * to any of several methods, counted together (a manifest write: `state.putEntry` for one entry,
   * `state.putEntries` for a batch).
   */
  readonly call: number;
  readonly on?: string | readonly string[];
  readonly when: CrashMoment;
  /** For `midStream`: the share of the body (0..1) that gets through before the crash. */
  readonly fraction?: number;
}

/** One invocation's life: alive until a crash point kills it. */
export class Invocation {
  readonly #controller = new AbortController();
  #crashedAt: string | undefined;

  /** Fires when the invocation dies: in-flight uploads abort and leave nothing. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get dead(): boolean {
    return this.#crashedAt !== undefined;
  }

  /** Where it died (`putStream#14 after`), for test messages. */
  get crashedAt(): string | undefined {
    return this.#crashedAt;
  }

  kill(where: string): SimulatedCrash {
    const crash = new SimulatedCrash(`simulated crash at ${where}`);
    if (this.#crashedAt === undefined) {
      this.#crashedAt = where;
      this.#controller.abort(crash);
    }
    return crash;
  }
}

export class CrashSchedule {
  #points: readonly CrashPoint[];
  readonly #byLabel = new Map<string, number>();
  #calls = 0;
  #base = { calls: 0, byLabel: new Map<string, number>() };
  #current = new Invocation();
  /** Every crash that fired, in order. */
  readonly fired: string[] = [];
  /** `midStream` points whose call got no body, waiting for the next call to their port that does. */
  readonly #carried: CrashPoint[] = [];
  /** Calls a `midStream` point landed on that got no body (each carried to a later call). */
  bodilessCalls = 0;
  /** Calls an `after` point landed on that failed (each carried to a later call). */
  failedCalls = 0;

  constructor(points: readonly CrashPoint[] = []) {
    this.#points = points;
  }

  /** Port calls made so far. */
  get calls(): number {
    return this.#calls;
  }

  /** Replaces the crash points, numbering calls from now on (1 = the next call). */
  arm(points: readonly CrashPoint[]): void {
    this.#points = points;
    this.#carried.length = 0;
    this.#base = { calls: this.#calls, byLabel: new Map(this.#byLabel) };
  }

  /** Calls made so far to one port method (`cdn.open`). */
  callsTo(label: string): number {
    return this.#byLabel.get(label) ?? 0;
  }

  /** Calls to the methods a point names, since the schedule was armed. */
  #callsOn(on: string | readonly string[]): number {
    const labels = typeof on === 'string' ? [on] : on;
    return labels.reduce((n, l) => n + (this.#byLabel.get(l) ?? 0) - (this.#base.byLabel.get(l) ?? 0), 0);
  }

  get current(): Invocation {
    return this.#current;
  }

  /** Starts a new invocation (a fresh process, or a warm one after a clean end). */
  begin(): Invocation {
    this.#current = new Invocation();
    return this.#current;
  }

  /** Throws if the running invocation is already dead. */
  assertAlive(): void {
    if (this.#current.dead) throw new SimulatedCrash(`invocation already dead (${this.#current.crashedAt})`);
  }

  /** Counts a call and says whether (and how) it must crash. */
  next(label: string): { readonly number: number; readonly point?: CrashPoint; readonly label: string } {
    this.assertAlive();
    this.#calls += 1;
    const ofLabel = (this.#byLabel.get(label) ?? 0) + 1;
    this.#byLabel.set(label, ofLabel);
    const call = this.#calls - this.#base.calls;
    const point =
      this.#points.find((p) =>
        p.on === undefined ? p.call === call : names(p.on, label) && p.call === this.#callsOn(p.on),
      ) ?? this.#takeCarried(label);
    return { number: this.#calls, label: `${label}#${this.#calls}`, ...(point ? { point } : {}) };
  }

  /**
   * A `midStream` point landed on a call that got no body (its request failed): the crash moves to
   * the next call to the same port (`on`, the call's label) that is not a crash point of its own.
   */
  carry(point: CrashPoint, on: string): void {
    this.bodilessCalls += 1;
    this.#carried.push({ ...point, on });
  }

  /**
   * A point past the call's start (`after`, or `midStream` on a call with no stream) landed on a
   * call that failed: nothing was written, so there was no "after" to die in. The crash moves to
   * the next call to the point's port (its `on`, or this call's label) that is not a crash point
   * of its own, and so on until one succeeds. A call that failed because its invocation had died
   * moves nothing (the process is gone; the crash that killed it is the case's).
   */
  carryPastFailure(point: CrashPoint, label: string): void {
    this.failedCalls += 1;
    this.#carried.push({ ...point, on: point.on ?? label });
  }

  /** Points still waiting for a body or for a call that succeeds (their crash has not happened). */
  get carried(): number {
    return this.#carried.length;
  }

  #takeCarried(label: string): CrashPoint | undefined {
    const at = this.#carried.findIndex((p) => p.on !== undefined && names(p.on, label));
    return at < 0 ? undefined : this.#carried.splice(at, 1)[0];
  }

  /** Kills the running invocation and returns the error to throw. */
  crash(where: string): SimulatedCrash {
    this.fired.push(where);
    return this.#current.kill(where);
  }

  /** Runs one port call under the schedule. */
  async around<T>(label: string, call: () => Promise<T>): Promise<T> {
    const invocation = this.#current;
    const step = this.next(label);
    if (step.point?.when === 'before') throw this.crash(`${step.label} before`);
    let result: T;
    try {
      result = await call();
    } catch (error) {
      if (step.point !== undefined && !invocation.dead) this.carryPastFailure(step.point, label);
      throw error;
    }
    // The process died while this call was in flight (a sibling call crashed): it never returns.
    if (invocation.dead) throw new SimulatedCrash(`invocation died during ${step.label}`);
    if (step.point !== undefined) throw this.crash(`${step.label} after`);
    return result;
  }
}

/** A point's `on` names this port method (one method, or one of several). */
function names(on: string | readonly string[], label: string): boolean {
  return typeof on === 'string' ? on === label : on.includes(label);
}

/** A small deterministic PRNG (mulberry32) so each seed picks the same crash points every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Lets `limit` bytes of a body through, then kills the invocation: the stream errors with
 * `SimulatedCrash` and the invocation's signal aborts whatever was consuming it.
 */
export function crashAfterBytes(schedule: CrashSchedule, where: string, limit: number): Transform {
  let passed = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const room = limit - passed;
      if (room >= chunk.length) {
        passed += chunk.length;
        callback(null, chunk);
        return;
      }
      if (room > 0) this.push(chunk.subarray(0, room));
      passed = limit;
      callback(schedule.crash(where));
    },
    flush(callback) {
      // The whole body fitted under the limit: the process dies as its last byte went out.
      callback(schedule.crash(where));
    },
  });
}
