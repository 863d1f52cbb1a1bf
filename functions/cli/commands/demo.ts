/**
 * `icloud-s3 demo` (what `npm start` runs): the whole product on this machine, on embedded
 * defaults. It starts the iCloud simulator with a seeded library, signs in as a person would
 * (the two-factor code arrives on the simulated iPhone), runs the pipeline, changes the library
 * and runs again to show what incremental and idle runs cost. Everything it writes stays under
 * one folder (`.icloud-s3/demo`, git-ignored); a second invocation continues where the first
 * stopped, so its first sync is incremental.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
// The simulator, the pipeline and the sign-in are imported when the demo runs: `demo --help`
// loads none of them (issue 12).
import { Command } from 'commander';
import type { IcloudEndpoint } from '#adapters/icloud/endpoints.ts';
import { fileSessionStore, icloudEndpoint } from '#compose/cli.ts';
import type { SyncSummary } from '#local/local-sync.ts';
import type { SessionStore } from '#ports/session-store.ts';
import type { Logger } from '#shared/logger.ts';
import { Secret } from '#shared/redact.ts';
import { DEMO_DIR, demoFallback, demoLayout, writeDemoSettings } from '../demo-path.ts';
import { downloadBar, TransferRate } from '../io/download-progress.ts';
import { integerIn } from '../io/option-parsers.ts';
import { Output } from '../io/output.ts';
import { ProgressLine } from '../io/progress-line.ts';
import type { JsonResult } from '../io/result-status.ts';
import { describeSummary } from './sync.ts';

interface DemoOptions {
  readonly dir: string;
  readonly assets: number;
  readonly seed: number;
  readonly json?: boolean;
}

async function control<T>(controlUrl: string, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${controlUrl}${route}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`simulator control ${route} answered ${response.status}`);
  return (await response.json()) as T;
}

interface TruthAsset {
  readonly assetRecordName: string;
  readonly isDeleted: boolean;
  readonly mediaType: 'photo' | 'video';
  readonly adjustmentType?: string;
  readonly fileName: string;
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('show the whole pipeline on this machine against the built-in iCloud simulator')
    .option('--dir <dir>', 'where the demo keeps everything', DEMO_DIR)
    .option('--assets <n>', 'size of the simulated library', integerIn(1, 100_000), 300)
    .option('--seed <n>', 'seed of the simulated library', integerIn(0, 2_147_483_647), 2026)
    .addHelpText(
      'after',
      `
Examples:
  npm start                  the demo, in prose
  npm start -- --json        one JSON summary line per pipeline run`,
    )
    .action(async (options: DemoOptions, command: Command) => {
      const [{ runLocalSync }, { createLogger }, { startSimulator }] = await Promise.all([
        import('#local/local-sync.ts'),
        import('#shared/logger.ts'),
        import('#simulator/src/index.ts'),
      ]);
      const json = Boolean(command.optsWithGlobals<{ json?: boolean }>().json);
      const out = new Output({ json });
      const dir = path.resolve(options.dir);
      await mkdir(dir, { recursive: true });
      const layout = demoLayout(dir);
      // Lets later commands start this simulator again from its state (demo-path.ts).
      const settings = { seed: Number(options.seed), assets: Number(options.assets), mediaScale: 0.02 };
      await writeDemoSettings(dir, settings);
      const logger = createLogger({ level: 'SILENT', destination: 'stderr' });

      out.step('Starting the iCloud simulator (Apple’s sign-in, CloudKit and CDN, on 127.0.0.1)…');
      const sim = await startSimulator({
        port: 0,
        ...settings,
        stateDir: layout.simulatorState,
      });
      try {
        const endpoint = await icloudEndpoint(sim.controlUrl);
        const store = fileSessionStore(layout.session);
        await signIn(out, sim, endpoint, store, logger);

        const dataDir = layout.archive;
        /** `id` names the run in `--json` output: `initial`, `afterChanges`, `unchanged`. */
        const run = async (id: string, title: string): Promise<SyncSummary> => {
          out.info('');
          out.step(title);
          const progress = new ProgressLine();
          const rate = new TransferRate();
          const summary = await runLocalSync({
            dataDir,
            endpoint,
            store,
            logger,
            onProgress: (p) => {
              if (p.phase === 'downloading') {
                const bar = downloadBar(p, rate.sample(p.bytesDownloaded, Date.now()));
                progress.update(bar.label, bar.done, bar.total);
              } else if (p.phase === 'detecting') progress.update('Asking iCloud what changed…', 0);
            },
          });
          progress.done();
          // Each line carries the sync's status word (io/result-status.ts), as `sync --json` does.
          const line: JsonResult = { status: summary.outcome, run: id, ...summary };
          if (json) process.stdout.write(`${JSON.stringify(line)}\n`);
          else describeSummary(out, summary);
          if (summary.outcome === 'reauthRequired')
            throw new Error(summary.message ?? 'iCloud needs a new sign-in');
          return summary;
        };

        await run('initial', 'Syncing the library into the local archive (the same handlers as in Lambda)…');

        const library = await control<{ assets: TruthAsset[] }>(
          sim.controlUrl,
          'GET',
          '/library?sha256=false',
        );
        const live = library.assets.filter((a) => !a.isDeleted && a.mediaType === 'photo');
        const [toTrash, toEdit, toFavourite] = [live[0], live[1], live[2]];
        out.info('');
        out.step('Changing the library in “iCloud”: a new photo, one trashed, one edited, one favourited.');
        await control(sim.controlUrl, 'POST', '/mutate', { op: 'add', kind: 'photo', count: 1 });
        if (toTrash)
          await control(sim.controlUrl, 'POST', '/mutate', {
            op: 'trash',
            assetRecordName: toTrash.assetRecordName,
          });
        if (toEdit)
          await control(sim.controlUrl, 'POST', '/mutate', {
            op: 'edit',
            assetRecordName: toEdit.assetRecordName,
          });
        if (toFavourite) {
          await control(sim.controlUrl, 'POST', '/mutate', {
            op: 'favorite',
            assetRecordName: toFavourite.assetRecordName,
          });
        }
        await run('afterChanges', 'Syncing again: only what changed is fetched.');
        await run('unchanged', 'Syncing once more, with nothing changed: the idle cost.');

        out.info('');
        out.success(
          `The archive and its state are in ${display(dataDir)}: look at it as you will at the real one.`,
        );
        out.info(
          '  Try next (each starts the demo’s simulator again from its saved state when it needs iCloud):',
        );
        for (const line of nextCommands(dir)) out.info(`    ${line}`);
        out.info(
          '  For your real library: npx cdk deploy, then npx icloud-s3 login --aws --stack IcloudS3 --remember-password',
        );
        out.info(
          '  (docs/deploy.md); or npx icloud-s3 login, then npx icloud-s3 sync, to archive it on this machine.',
        );
      } finally {
        await sim.stop();
      }
    });
}

const display = (p: string) =>
  path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p);

/**
 * The commands the demo's closing lines suggest, each working as printed: bare when commands find
 * this demo by themselves (demo-path.ts: the default folder, and no archive or session of the
 * person's own yet), else with `--local` and `--session-file`.
 */
export function nextCommands(dir: string): string[] {
  const layout = demoLayout(dir);
  const found = demoFallback();
  const where =
    found !== undefined && path.resolve(found.dir) === path.resolve(dir)
      ? ''
      : ` --local ${display(layout.archive)} --session-file ${display(layout.session)}`;
  return [
    `npx icloud-s3 status${where}                  how the archive stands`,
    `npx icloud-s3 verify${where}                  the archive against “iCloud”, object by object`,
    `npx icloud-s3 sync${where}                    one more run (nothing changed: the idle cost)`,
    `npx icloud-s3 local serve${where}             the bucket over S3, for rclone or the AWS CLI (Ctrl-C stops)`,
  ];
}

async function signIn(
  out: Output,
  sim: { controlUrl: string; appleId: string; password: string },
  endpoint: IcloudEndpoint,
  store: SessionStore,
  logger: Logger,
): Promise<void> {
  const { beginLogin } = await import('#adapters/icloud/session/login-session.ts');
  const login = await beginLogin({ endpoint, store, appleId: sim.appleId, logger });
  if (await login.checkStored()) {
    out.success(`Signed in as ${sim.appleId}: the stored session still works (no password, no code).`);
    return;
  }
  out.step(`Signing in to iCloud as ${sim.appleId} (a simulated Apple ID with two-factor on)…`);
  const authenticator = await login.startSignIn();
  const password = new Secret(sim.password);
  const result = await authenticator.signIn(password);
  if (result.status === 'two-factor') {
    await authenticator.requestCode({ kind: 'device' });
    const { code } = await control<{ code: string }>(
      sim.controlUrl,
      'GET',
      `/2fa/code?appleId=${encodeURIComponent(sim.appleId)}`,
    );
    out.info(`  📱 iPhone: “Your Apple Account code is ${code}. Don’t share it with anyone.”`);
    out.step(`Entering the code ${code}…`);
    await authenticator.verifyCode({ kind: 'device' }, code);
  }
  await login.save({});
  out.success('Signed in; this machine is trusted, so the next sign-ins need no code.');
}
