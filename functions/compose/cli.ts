/**
 * The CLI's composition root on this machine: the session file and the iCloud endpoint (Apple,
 * or a simulator's URL). The deployed stack's side is `deployed-stack.ts`; the archives
 * `status` and `verify` read are `archive-access.ts`.
 */
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import { defaultSessionPath, FileSessionStore } from '#adapters/local/file-session-store.ts';
import type { SessionStore } from '#ports/session-store.ts';

export { defaultSessionPath };

/** The session kept in a file (the default location unless `file` is given). */
export function fileSessionStore(file?: string): SessionStore & { readonly path: string } {
  return new FileSessionStore(file);
}

/**
 * Where iCloud is: `apple` (the default), or a simulator's control URL. Resolved once per call.
 * Its module (and zod, its schemas') is imported here: a command's `--help` loads neither.
 */
export async function icloudEndpoint(name: string | undefined): Promise<IcloudEndpoint> {
  const { resolveEndpoint } = await import('#adapters/icloud/endpoints.ts');
  return resolveEndpoint(name);
}
