/**
 * Every alarm on a custom metric watches a metric the deployed functions really emit. CloudWatch
 * identifies a metric by its namespace, name and FULL dimension set: an alarm whose dimensions,
 * service name or namespace differ by one key or letter from what the functions write watches a
 * metric nobody writes and never fires, while every structural test of the template passes.
 *
 * How: the stack is synthesized (`mirror`, so a mass deletion can be refused) and each function is
 * loaded from its real Lambda entry (functions/entry/lambda/*.ts: the composition, middy and
 * Powertools' `logMetrics`, which publishes at the end of each invocation) with the environment
 * the template gives it (test/helpers/deployed/function-environment.ts), against the local AWS
 * servers and the simulator. Each entry is imported afresh (`vi.resetModules`) after
 * `process.env` is set, as a cold start reads it.
 *
 * Capture: every invocation runs inside `captureEmf` (test/helpers/deployed/emf.ts): Powertools
 * writes each EMF document as one JSON line on stdout (its own `Console` on `process.stdout`, or
 * `console.log` under POWERTOOLS_DEV), which in Lambda goes to CloudWatch Logs; the wrapped
 * `process.stdout.write`/`console.log` keep the lines that are EMF documents, read per the spec
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * one metric per directive, dimension set (its names, their values from the root members) and
 * `Metrics` entry (its value the root member of its name), filed under the scenario running.
 *
 * Match: for every alarm in the template whose metric (or each metric of its expression) is not in
 * an `AWS/` namespace, the scenario that must trip it is driven (a mass deletion refused, Apple
 * wanting a new sign-in found by the detector and by a worker, the latched runs after it, work given
 * up after its last redrive, the trust about to expire) and some EMF record must carry the alarm's
 * Namespace, MetricName and exactly its dimension set with its values, with a value on the
 * breaching side of its Threshold under its ComparisonOperator (the alarm's Statistic over the
 * record's values). The one alarm whose breach is silence (`NoRecentSync`, missing data breaching)
 * is checked the other way: a successful sync must emit its metric on the OK side. An alarm this
 * test does not know fails it until a scenario is taught. The reverse, for the dashboard: every
 * metric the functions emitted (namespace, name, exact dimensions) has a graph.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Handler } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretsManagerSessionStore } from '#adapters/aws/secrets-manager-session-store.ts';
import { TRUST_LIFETIME_MS } from '#adapters/icloud/session/icloud-session.ts';
import type { DetectionRunResult } from '#app/detection-run.ts';
import type { createDownloadHandler } from '#entry/lambda/download-handler.ts';
import { pollUntilEmpty } from '#local/drain-work-queue.ts';
import { createLambdaContext } from '#local/lambda-context.ts';
import type { WorkQueueUrls } from '#local/servers/provision.ts';
import { ENV } from '#shared/env-names.ts';
import { breaches, statistic } from '#test/fakes/cloudwatch-alarms.ts';
import { putDeadLetter } from '#test/helpers/deployed/dead-letter.ts';
import { captureEmf, type EmittedMetric } from '#test/helpers/deployed/emf.ts';
import {
  type DeployedFunction,
  lambdaSdkEnvironment,
  localResourcesOf,
  templateEnvironmentOf,
} from '#test/helpers/deployed/function-environment.ts';
import type { LocalResources } from '#test/helpers/iam/role-policy.ts';
import { signInToSimulator } from '#test/helpers/icloud-login.ts';
import { startTestAws, type TestAws } from '#test/helpers/local-aws.ts';
import type { TruthAssetDetail } from '#test/helpers/pipeline-harness.ts';
import { type ControlClient, controlClient, startTestSimulator } from '#test/helpers/simulator.ts';
import { logicalIdOf, type Synthesised, synthesise } from '../infra/synth.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

type Scenario =
  | 'sync succeeded'
  | 'trust expiring'
  | 'work given up'
  | 'worker finds sign-in needed'
  | 'latched run'
  | 'detector finds sign-in needed'
  | 'mass deletion refused';

/** What each scenario made the functions emit. */
const emitted = new Map<Scenario, EmittedMetric[]>();

/**
 * Which scenario must trip each custom metric of each alarm (by the alarm's construct on
 * `PipelineAlarms` and the metric's id in its expression), and on which side of the threshold.
 */
const TRIPPED_BY: Record<string, { readonly scenario: Scenario; readonly side: 'breaching' | 'ok' }> = {
  deletionRefused: { scenario: 'mass deletion refused', side: 'breaching' },
  workGivenUp: { scenario: 'work given up', side: 'breaching' },
  trustExpiring: { scenario: 'trust expiring', side: 'breaching' },
  // Missing data breaches: the alarm fires on silence, and a success must hold it OK.
  noRecentSync: { scenario: 'sync succeeded', side: 'ok' },
  'reauthRequired.detector': { scenario: 'detector finds sign-in needed', side: 'breaching' },
  'reauthRequired.worker': { scenario: 'worker finds sign-in needed', side: 'breaching' },
  'reauthRequired.pending': { scenario: 'latched run', side: 'breaching' },
};

interface WatchedMetric {
  /** `alarm` or `alarm.metricId` (a metric of an expression): the key of `TRIPPED_BY`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
  readonly threshold: number;
  readonly comparison: string;
}

type Props = Record<string, unknown>;
type MetricProps = { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };

const dimensionsOf = (dims: MetricProps['Dimensions']): Record<string, string> =>
  Object.fromEntries(
    (dims ?? []).map((d) => {
      if (typeof d.Value !== 'string')
        throw new Error(`dimension ${d.Name} is not a literal: teach the test`);
      return [d.Name, d.Value];
    }),
  );

/** Every custom metric the template's alarms watch (AWS/* namespaces are the services' own). */
function watchedMetrics(synth: Synthesised): WatchedMetric[] {
  const resources = synth.template.toJSON().Resources as Record<string, { Type: string; Properties: Props }>;
  const keyOf = new Map(
    Object.entries(synth.stack.alarms)
      .filter(([, value]) => value !== null && typeof value === 'object' && 'alarmArn' in (value as object))
      .map(([name, alarm]) => [logicalIdOf(synth.stack, alarm as never), name]),
  );
  const out: WatchedMetric[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::CloudWatch::Alarm') continue;
    const p = resource.Properties;
    const alarm = keyOf.get(id) ?? id;
    const common = { threshold: p['Threshold'] as number, comparison: p['ComparisonOperator'] as string };
    if (p['MetricName'] !== undefined) {
      const m = p as unknown as MetricProps;
      if (m.Namespace.startsWith('AWS/')) continue;
      out.push({
        key: alarm,
        namespace: m.Namespace,
        name: m.MetricName,
        dimensions: dimensionsOf(m.Dimensions),
        statistic: p['Statistic'] as string,
        ...common,
      });
      continue;
    }
    const queries = p['Metrics'] as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: MetricProps; Stat: string };
    }[];
    const expression = queries.find((q) => q.Expression !== undefined)?.Expression ?? '';
    const custom = queries.filter((q) => q.MetricStat && !q.MetricStat.Metric.Namespace.startsWith('AWS/'));
    if (custom.length === 0) continue;
    // MAX of the metrics breaches when any one of them does: each is checked on its own.
    if (!/^MAX\(\[\s*\w+(\s*,\s*\w+)*\s*\]\)$/.test(expression))
      throw new Error(`alarm ${alarm}: expression "${expression}" is not a MAX of metrics; teach the test`);
    for (const q of custom) {
      out.push({
        key: `${alarm}.${q.Id}`,
        namespace: q.MetricStat!.Metric.Namespace,
        name: q.MetricStat!.Metric.MetricName,
        dimensions: dimensionsOf(q.MetricStat!.Metric.Dimensions),
        statistic: q.MetricStat!.Stat,
        ...common,
      });
    }
  }
  return out;
}

const sameDimensions = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** Why no record of `scenario` trips `watched`, or `undefined` when one does. */
function mismatch(watched: WatchedMetric, records: readonly EmittedMetric[], side: 'breaching' | 'ok') {
  const show = (m: { namespace: string; name: string; dimensions: Readonly<Record<string, string>> }) =>
    `${m.namespace}/${m.name} ${JSON.stringify(m.dimensions)}`;
  const same = records.filter(
    (r) =>
      r.namespace === watched.namespace &&
      r.name === watched.name &&
      sameDimensions(r.dimensions, watched.dimensions),
  );
  if (same.length === 0) {
    const named = records.filter((r) => r.name === watched.name).map(show);
    return `watches ${show(watched)}, which no function emitted; emitted under that name: ${
      named.length === 0 ? 'nothing' : [...new Set(named)].join(', ')
    }`;
  }
  const values = same.map((r) => statistic(watched.statistic, r.values));
  const wanted = side === 'breaching';
  if (values.some((v) => breaches(watched.comparison, v, watched.threshold) === wanted)) return undefined;
  return `${show(watched)} emitted ${JSON.stringify(values)}, none ${side} for ${watched.statistic} ${watched.comparison} ${watched.threshold}`;
}

// --- the deployment ---------------------------------------------------------------------------

type DetectHandler = Handler<unknown, DetectionRunResult>;
type DownloadHandler = ReturnType<typeof createDownloadHandler>;

let synth: Synthesised;
let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let control: ControlClient;
let aws: TestAws;
let queues: WorkQueueUrls;
let local: LocalResources;
let secretId: string;
let dir: string;
const savedEnv = { ...process.env };

/** The AWS SDK's own environment in Lambda: region, credentials, and (here) the local endpoints. */
const sdkEnvironment = () => lambdaSdkEnvironment(aws.aws.endpoints);

/** Cold-starts `fn` from its Lambda entry with the template's environment. */
async function coldStart<T>(fn: DeployedFunction, entry: () => Promise<{ handler: T }>): Promise<T> {
  process.env = {
    ...savedEnv,
    ...sdkEnvironment(),
    ...templateEnvironmentOf(synth, fn, local),
    [ENV.icloudEndpoint]: sim.controlUrl,
  };
  try {
    return (await entry()).handler;
  } finally {
    process.env = { ...savedEnv, ...sdkEnvironment() };
  }
}

interface Deployment {
  tick(): Promise<DetectionRunResult>;
  drain(): Promise<void>;
}

/** Both functions, cold-started (a deployment, or Lambda replacing its instances). */
async function deploy(): Promise<Deployment> {
  vi.resetModules();
  const detect = await coldStart<DetectHandler>('detector', () => import('#entry/lambda/detect-changes.ts'));
  const download = await coldStart<DownloadHandler>(
    'workers',
    () => import('#entry/lambda/download-assets.ts'),
  );
  const sqs = { client: aws.sqs, endpoint: aws.aws.endpoints.sqs, queues };
  return {
    async tick() {
      for (;;) {
        const context = createLambdaContext('detect-changes', 5 * 60_000);
        const result = await invoke(
          'detector',
          async () => (await detect({}, context, () => undefined)) as DetectionRunResult,
        );
        if (result.outcome !== 'continued') return result;
      }
    },
    drain: () => invoke('workers', () => pollUntilEmpty(sqs, download, 2)),
  };
}

/** The scenario the functions' invocations now belong to (`setup`: none the alarms are checked on). */
let current: Scenario | 'setup' = 'setup';

/** Runs `run` as the scenario(s) `names`: what the functions emit meanwhile is theirs. */
async function scenario<T>(names: Scenario | readonly Scenario[], run: () => Promise<T>): Promise<T> {
  const list = typeof names === 'string' ? [names] : names;
  current = list[0]!;
  try {
    return await run();
  } finally {
    for (const name of list.slice(1)) emitted.set(name, emitted.get(list[0]!) ?? []);
    current = 'setup';
  }
}

/** Everything each function emitted, whatever the scenario. */
const emittedBy: Record<DeployedFunction, EmittedMetric[]> = { detector: [], workers: [] };

/** Runs `fn`'s invocation (or a drain of many), keeping the EMF it writes under the current scenario. */
async function invoke<T>(fn: DeployedFunction, run: () => Promise<T>): Promise<T> {
  const { result, metrics } = await captureEmf(run);
  emittedBy[fn].push(...metrics);
  if (current !== 'setup') emitted.set(current, [...(emitted.get(current) ?? []), ...metrics]);
  return result;
}

/** `icloud-s3 login --aws`: a fresh session in the secret; its trust expires in `trustDays` if given. */
async function login(trustDays?: number) {
  const signedIn = await signInToSimulator(sim, join(dir, 'session.json'));
  const session = await signedIn.store.load();
  if (session === undefined) throw new Error('sign-in stored no session');
  const document = JSON.parse(session.document) as Record<string, unknown>;
  if (trustDays !== undefined)
    document['trustTokenIssuedAt'] = Date.now() - TRUST_LIFETIME_MS + trustDays * DAY_MS;
  await new SecretsManagerSessionStore({ client: aws.secretsManager, secretId }).save(
    JSON.stringify(document),
  );
}

const truth = async () => (await control.library<{ assets: TruthAssetDetail[] }>()).assets;

beforeAll(async () => {
  synth = synthesise({ deletePolicy: 'mirror' });
  sim = await startTestSimulator({ assets: 6, seed: 11 });
  control = controlClient(sim);
  aws = await startTestAws();
  const [bucket, table, secret] = await Promise.all([
    aws.createBucket(),
    aws.createTable(),
    aws.createSecret(),
  ]);
  secretId = secret;
  queues = await aws.createQueue({ maxReceiveCount: 1 });
  local = localResourcesOf(synth, { bucket, table, secretId, queues });
  dir = await mkdtemp(join(tmpdir(), 'icloud-s3-alarms-'));

  // A first sync, with a session whose trust runs out in 3 days.
  await login(3);
  let deployed = await deploy();
  const first = await scenario(['sync succeeded', 'trust expiring'], () => deployed.tick());
  expect(first.outcome).toBe('caughtUp');
  await deployed.drain();

  // Work that failed after its last redrive, left in the dead-letter queue.
  await putDeadLetter(aws.sqs, queues.deadLetterQueueUrl, { redrives: 5, redrivenAt: Date.now() - DAY_MS });
  await scenario('work given up', () => deployed.tick());

  // A new photo queued; its download URL expires and Apple signs every session out: the worker,
  // refreshing the URL (records/lookup), finds a person must sign in, and latches the session.
  await control.mutate({ op: 'add', kind: 'photo' });
  await deployed.tick();
  await control.advanceClock({ advanceMs: 61 * 60_000 });
  await control.signOutAll();
  await scenario('worker finds sign-in needed', () => deployed.drain());
  // Every detector run after it stops on the latch (a cold one: a warm detector's cached session
  // is a minute old at most, and a schedule tick is 15 minutes away).
  deployed = await deploy();
  const latched = await scenario('latched run', () => deployed.tick());
  expect(latched.outcome).toBe('reauthRequired');

  // Signed in again, then signed out: the detector finds it.
  await login();
  deployed = await deploy();
  await control.signOutAll();
  const found = await scenario('detector finds sign-in needed', () => deployed.tick());
  expect(found.outcome).toBe('reauthRequired');

  // Signed in again; most of the library purged under `mirror`: the run refuses.
  await login();
  deployed = await deploy();
  await deployed.drain();
  for (const asset of (await truth()).slice(0, 3)) {
    await control.mutate({ op: 'trash', assetRecordName: asset.assetRecordName });
    await control.mutate({ op: 'purge', assetRecordName: asset.assetRecordName });
  }
  const refused = await scenario('mass deletion refused', () => deployed.tick());
  expect(refused.outcome).toBe('deletionRefused');
});

afterAll(async () => {
  process.env = savedEnv;
  await aws?.stop();
  await sim?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('every alarm on a custom metric watches what the deployed functions emit', () => {
  it('knows a scenario for every custom metric an alarm watches', () => {
    const keys = watchedMetrics(synth).map((w) => w.key);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => TRIPPED_BY[k] === undefined)).toEqual([]);
    expect(Object.keys(TRIPPED_BY).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('finds, for each, an EMF record with its namespace, name and exact dimensions on the side its scenario must reach', () => {
    const failures: string[] = [];
    for (const watched of watchedMetrics(synth)) {
      const tripped = TRIPPED_BY[watched.key]!;
      const why = mismatch(watched, emitted.get(tripped.scenario) ?? [], tripped.side);
      if (why !== undefined) failures.push(`${watched.key} (${tripped.scenario}): ${why}`);
    }
    expect(failures).toEqual([]);
  });

  it("emits under the service name and namespace the template's Powertools environment names", () => {
    // The entries pass their service name to Powertools, which then ignores POWERTOOLS_SERVICE_NAME:
    // the template's value must still say what the alarms watch, or it misleads whoever reads it.
    for (const fn of ['detector', 'workers'] as const) {
      const env = templateEnvironmentOf(synth, fn, local);
      const emittedAs = new Set(emittedBy[fn].map((m) => `${m.namespace} ${m.dimensions['service']}`));
      expect(emittedBy[fn].length, fn).toBeGreaterThan(0);
      expect([...emittedAs], fn).toEqual([`${env[ENV.metricsNamespace]} ${env[ENV.serviceName]}`]);
    }
  });

  it('shows on the dashboard every metric the functions emitted, with its exact dimensions', () => {
    const resources = synth.template.toJSON().Resources as Record<string, { Properties: Props }>;
    const body = resources[logicalIdOf(synth.stack, synth.stack.dashboard.dashboard)]!.Properties[
      'DashboardBody'
    ] as string | { 'Fn::Join': [string, unknown[]] };
    // The body's literal parts (the tokens between them are ARNs and names of other resources).
    const text =
      typeof body === 'string'
        ? body
        : body['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : '?')).join('');
    const graphs = new Set(
      [...text.matchAll(/\[("[^"[\]{}]*"(?:,"[^"[\]{}]*")*)(?=,\{|\])/g)].map((m) => m[1]!),
    );
    const all = [...emitted.values()].flat();
    const unshown = new Set<string>();
    for (const metric of all) {
      const row = [metric.namespace, metric.name, ...Object.entries(metric.dimensions).flat()]
        .map((v) => JSON.stringify(v))
        .join(',');
      if (!graphs.has(row)) unshown.add(row);
    }
    expect(all.length).toBeGreaterThan(0);
    expect([...unshown]).toEqual([]);
  });
});
