/**
 * Wire-level body faults as stream transforms, so they apply to streamed CDN bodies without
 * buffering: cut the connection after N bytes (RST, or a clean close short of Content-Length), or
 * trickle the body in small delayed chunks.
 */
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import type { BodyMode } from './fault-spec.ts';

export interface BodyDamage {
  readonly mode: BodyMode;
  readonly afterBytes?: number | undefined;
  readonly chunkBytes?: number | undefined;
  readonly chunkDelayMs?: number | undefined;
}

/** Passes `limit` bytes, then kills the socket (abruptly for `reset`, after flushing for `truncate`). */
function cutAfter(limit: number, socket: Socket, abrupt: boolean): Transform {
  let sent = 0;
  let cut = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (cut) return done();
      const room = limit - sent;
      if (chunk.length < room) {
        sent += chunk.length;
        return done(null, chunk);
      }
      cut = true;
      if (room > 0) this.push(chunk.subarray(0, room));
      sent = limit;
      // Let the bytes reach the socket first, then cut it.
      setImmediate(() => {
        if (abrupt) socket.resetAndDestroy();
        else socket.destroySoon();
      });
      done();
    },
  });
}

function trickle(chunkBytes: number, delayMs: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const parts: Buffer[] = [];
      for (let i = 0; i < chunk.length; i += chunkBytes) parts.push(chunk.subarray(i, i + chunkBytes));
      const next = (): void => {
        const part = parts.shift();
        if (!part) {
          done();
          return;
        }
        this.push(part);
        setTimeout(next, delayMs);
      };
      next();
    },
  });
}

/** The transform for a body of `length` bytes sent on `socket`. */
export function damageTransform(damage: BodyDamage, length: number, socket: Socket): Transform {
  switch (damage.mode) {
    case 'reset-mid-body':
      return cutAfter(damage.afterBytes ?? Math.floor(length / 2), socket, true);
    case 'truncate-body':
      return cutAfter(damage.afterBytes ?? Math.floor(length / 2), socket, false);
    case 'slow-body':
      return trickle(damage.chunkBytes ?? 16_384, damage.chunkDelayMs ?? 50);
  }
}
