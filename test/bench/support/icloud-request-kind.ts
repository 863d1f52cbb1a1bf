/**
 * What an iCloud request in a measured process is, for the bench's timeline (request-counter.ts):
 * a listing page, a changes call, a download, or anything else. A download is a GET from Apple's
 * CDN (an original or a version) and nothing more: the simulator's endpoint discovery
 * (`GET /__sim`, before any page) once counted as one, and made "first download before last page"
 * hold for a run that downloaded nothing until detection had ended.
 */

import { isAppleCdnHost } from '#shared/apple-cdn-host.ts';

export type IcloudRequestKind = 'query' | 'changes' | 'download' | 'other';

/**
 * A GET from Apple's CDN: by its host, or, against the simulator, by the path's first segment
 * (the simulator takes Apple's host there: `/cvws.icloud-content.com/B/...`).
 */
export function isCdnDownload(method: string, host: string, path: string): boolean {
  if (method.toUpperCase() !== 'GET') return false;
  const firstSegment = /^\/([^/?]+)/.exec(path)?.[1] ?? '';
  return isAppleCdnHost(host) || isAppleCdnHost(firstSegment);
}

export function icloudRequestKind(method: string, host: string, path: string): IcloudRequestKind {
  if (path.includes('/records/query')) return 'query';
  if (path.includes('/changes/')) return 'changes';
  return isCdnDownload(method, host, path) ? 'download' : 'other';
}
