/**
 * What makes `npm start` the start of a path rather than a dead end: the demo leaves its archive,
 * its session and its simulator's state under one folder, plus `demo.json` (how its simulated
 * library was seeded). Later commands find all three by themselves:
 *
 * - With neither `--local` nor `--session-file`, and no archive of the person's own yet (no
 *   `./.icloud-s3/aws`, no session at the default path), they use the demo's folder.
 * - A session remembers its endpoint. When that is a simulator that has stopped and a
 *   `demo.json` sits next to the session file, the simulator is started again from its state
 *   dir for the length of the command (the library, the trusted device and the session survive,
 *   so no password and no code are needed). A person expects `npx icloud-s3 verify` to work
 *   after the demo without keeping a terminal open for it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultSessionPath } from '#compose/cli.ts';
import { atCommandEnd } from './io/command-end.ts';

/** The demo's folder, relative to the current directory. */
export const DEMO_DIR = path.join('.icloud-s3', 'demo');

/** Where everything of one demo folder lives. */
export function demoLayout(dir: string) {
  return {
    dir,
    archive: path.join(dir, 'archive'),
    session: path.join(dir, 'session.json'),
    simulatorState: path.join(dir, 'simulator'),
    settings: path.join(dir, 'demo.json'),
  } as const;
}

/** How the demo's simulated library was seeded (`demo.json`). */
export interface DemoSettings {
  readonly seed: number;
  readonly assets: number;
  readonly mediaScale: number;
}

export async function writeDemoSettings(dir: string, settings: DemoSettings): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(demoLayout(dir).settings, `${JSON.stringify(settings)}\n`);
}

/**
 * The settings next to `sessionFile`, when it is a demo's session; nothing otherwise. zod is
 * imported here, not above: every command's `--help` loads this module, and none needs zod.
 */
async function demoSettingsNextTo(sessionFile: string): Promise<DemoSettings | undefined> {
  const file = demoLayout(path.dirname(sessionFile)).settings;
  if (!existsSync(file)) return undefined;
  const { DemoSettingsSchema } = await import('./demo-settings-schema.ts');
  const parsed = DemoSettingsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/**
 * The demo's folder when a command given neither `--local` nor `--session-file` should use it:
 * the person has no archive (`./.icloud-s3/aws`) and no session (default path) of their own,
 * and the demo left one. Decided from the files alone, so every command decides alike.
 */
export function demoFallback(
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): ReturnType<typeof demoLayout> | undefined {
  const layout = demoLayout(path.resolve(cwd, DEMO_DIR));
  if (existsSync(path.resolve(cwd, '.icloud-s3', 'aws'))) return undefined;
  if (!existsSync(path.join(layout.archive, 'aws')) || !existsSync(layout.session)) return undefined;
  if (existsSync(defaultSessionPath(env))) return undefined;
  return layout;
}

/**
 * The one decision, from `--local` and `--session-file` together, whether a command uses the
 * demo's folder: its session (`cliContext`) and its archive (`localDir`) alike. Either option
 * names the person's own: their library never goes into the demo's archive.
 */
export function demoFor(options: {
  readonly local?: string | undefined;
  readonly sessionFile?: string | undefined;
  readonly aws?: boolean | undefined;
}): ReturnType<typeof demoLayout> | undefined {
  if (options.aws || options.local !== undefined || options.sessionFile !== undefined) return undefined;
  return demoFallback();
}

/**
 * Starts the demo's simulator again from its state dir when `sessionFile` belongs to a demo;
 * returns its control URL, or nothing when the session is not a demo's.
 */
export async function restartDemoSimulator(sessionFile: string): Promise<string | undefined> {
  const settings = await demoSettingsNextTo(sessionFile);
  if (settings === undefined) return undefined;
  const { startSimulator } = await import('#simulator/src/index.ts');
  const sim = await startSimulator({
    port: 0,
    seed: settings.seed,
    assets: settings.assets,
    mediaScale: settings.mediaScale,
    stateDir: demoLayout(path.dirname(sessionFile)).simulatorState,
  });
  atCommandEnd(() => sim.stop());
  return sim.controlUrl;
}
