/**
 * A `MediaDownloader` (Apple's CDN) whose caller dies at a scheduled download: before the
 * request, after the response headers, or part-way through the body (`midStream`), which
 * leaves the upload it was feeding half-done. A `midStream` point whose download fails before it
 * has a body (an error reply, a refused URL), or whose body breaks on the wire before the cut, is
 * carried to the next download that gets one.
 */
import type { MediaDownload, MediaDownloader } from '#ports/media-download.ts';
import { type CrashSchedule, crashAfterBytes } from './crashing-invocation.ts';

export class CrashingMediaDownloader implements MediaDownloader {
  readonly #inner: MediaDownloader;
  readonly #schedule: CrashSchedule;
  /** Downloads opened (counted whether or not they were cut short). */
  opened = 0;

  constructor(inner: MediaDownloader, schedule: CrashSchedule) {
    this.#inner = inner;
    this.#schedule = schedule;
  }

  async open(url: string, options: { readonly signal?: AbortSignal }): Promise<MediaDownload> {
    const invocation = this.#schedule.current;
    const step = this.#schedule.next('cdn.open');
    if (step.point?.when === 'before') throw this.#schedule.crash(`${step.label} before`);
    this.opened += 1;
    let download: MediaDownload;
    try {
      download = await this.#inner.open(url, options);
    } catch (error) {
      // An error reply has no body to cut, nor headers to die after: the crash waits for the next
      // download that has them.
      if (step.point !== undefined && !invocation.dead) {
        if (step.point.when === 'midStream') this.#schedule.carry(step.point, 'cdn.open');
        else this.#schedule.carryPastFailure(step.point, 'cdn.open');
      }
      throw error;
    }
    if (invocation.dead) {
      download.body.destroy();
      throw invocation.kill(step.label);
    }
    if (step.point?.when === 'midStream' && download.contentLength !== undefined) {
      const limit = Math.floor(download.contentLength * (step.point.fraction ?? 0.5));
      const cut = crashAfterBytes(this.#schedule, `${step.label} midStream`, limit);
      const point = step.point;
      download.body.on('error', (error) => {
        // The body broke on the wire before the cut (a reset, a truncation): the crash never
        // happened, so it waits for the next download with a body, as after an error reply.
        if (!invocation.dead) this.#schedule.carry(point, 'cdn.open');
        cut.destroy(error);
      });
      return { ...download, body: download.body.pipe(cut) };
    }
    if (step.point !== undefined) {
      download.body.destroy();
      throw this.#schedule.crash(`${step.label} after`);
    }
    return download;
  }
}
