/**
 * The simulator's HTTP front: parses each request into a `SimRequest`, routes it by path prefix
 * (`/<apple-host>/<path>`) or `Host` header, counts it, applies injected faults, hands it to the part
 * that owns the host, and writes the `SimReply` back (streams piped with backpressure, never buffered).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { admitCloudKit, decorateCloudKitReply } from './auth/cloudkit-gate.ts';
import type { AuthContext } from './auth/context.ts';
import { parseCookieHeader, serializeSetCookie } from './auth/cookies.ts';
import { handleIdmsa, idmsaEndpointKey } from './auth/idmsa-router.ts';
import type { SetupService } from './auth/setup-router.ts';
import { setupEndpointKey } from './auth/setup-router.ts';
import type { RequestLog } from './control/request-log.ts';
import type { BodyDamage } from './faults/body-damage.ts';
import { damageTransform } from './faults/body-damage.ts';
import { faultReply, withFaultHeaders } from './faults/fault-replies.ts';
import { isBodyMode } from './faults/fault-spec.ts';
import type { FaultRegistry, FaultRule } from './faults/registry.ts';
import type { HostRole } from './hosts.ts';
import { CKDATABASEWS_HOST, roleOfHost } from './hosts.ts';
import { admitSharedStreams, sharedStreamsEndpointKey } from './sharedstreams/index.ts';
import type { RequestStats } from './stats.ts';
import type { Clock, Principal, SimReply, SimRequest } from './types.ts';
import { json } from './types.ts';

const MAX_REQUEST_BODY = 32 * 1024 * 1024;
export const CONTROL_PREFIX = '/__sim';

/** What a CloudKit handler gets besides the request: who is calling, and this response's request UUID. */
export interface CloudKitCall {
  readonly principal: Principal;
  readonly requestUuid: string;
}

export interface ServerParts {
  readonly clock: Clock;
  readonly stats: RequestStats;
  readonly faults: FaultRegistry;
  readonly log: RequestLog;
  readonly auth: AuthContext;
  readonly setup: SetupService;
  readonly control: (req: SimRequest) => SimReply | Promise<SimReply>;
  readonly cloudkit: (req: SimRequest, call: CloudKitCall) => SimReply | Promise<SimReply>;
  readonly cdn: (req: SimRequest) => SimReply | Promise<SimReply>;
  /** Legacy Shared Albums, after auth/ accepted the session cookies (absent: the host answers 404). */
  readonly sharedstreams?: (req: SimRequest, call: CloudKitCall) => SimReply | Promise<SimReply>;
}

/** The `/stats` key of a CloudKit path: what follows `/database/1/<container>/<env>/<db>/`. */
export function cloudKitEndpointKey(path: string): string {
  const m = /^\/database\/1\/[^/]+\/[^/]+\/[^/]+\/(.+?)\/?$/.exec(path);
  return m?.[1] ?? 'ckdatabasews';
}

/** The `/stats` and fault key of a request (documented in simulator/README.md). */
export function endpointKeyOf(role: HostRole, path: string): string {
  switch (role) {
    case 'idmsa':
      return idmsaEndpointKey(path);
    case 'setup':
      return setupEndpointKey(path);
    case 'ckdatabasews':
      return cloudKitEndpointKey(path);
    case 'sharedstreams':
      return sharedStreamsEndpointKey(path);
    case 'cdn':
      return 'cdn';
    case 'www':
      return 'www';
  }
}

interface Target {
  readonly host: string;
  readonly role: HostRole | 'control';
  readonly path: string;
}

function targetOf(rawPath: string, hostHeader: string | undefined): Target | undefined {
  if (rawPath === CONTROL_PREFIX || rawPath.startsWith(`${CONTROL_PREFIX}/`)) {
    return { host: 'sim', role: 'control', path: rawPath.slice(CONTROL_PREFIX.length) || '/' };
  }
  const slash = rawPath.indexOf('/', 1);
  const first = (slash === -1 ? rawPath.slice(1) : rawPath.slice(1, slash)).toLowerCase();
  const byPrefix = roleOfHost(first);
  if (byPrefix) return { host: first, role: byPrefix, path: slash === -1 ? '/' : rawPath.slice(slash) };
  const host = hostHeader?.replace(/:\d+$/, '').toLowerCase();
  const byHeader = host ? roleOfHost(host) : undefined;
  if (host && byHeader) return { host, role: byHeader, path: rawPath };
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  if (req.method === 'GET' || req.method === 'HEAD') {
    req.resume();
    return Buffer.alloc(0);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BODY) throw new RangeError('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds the `http.Server` request listener. */
export function createRequestListener(parts: ServerParts) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(parts, req, res).catch((e: unknown) => {
      process.stderr.write(`simulator: ${(e as Error).name}: ${(e as Error).message}\n`);
      if (!res.headersSent)
        writeReply(parts, req, res, json({ error: 'internal simulator error' }, 500), undefined);
      else res.destroy();
    });
  };
}

async function handle(parts: ServerParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const target = targetOf(rawPath, req.headers.host);
  if (!target) {
    req.resume();
    writeReply(parts, req, res, json({ error: 'unknown host' }, 404), undefined);
    return;
  }
  const body = await readBody(req);
  const simReq: SimRequest = {
    method: req.method ?? 'GET',
    host: target.host,
    path: target.path,
    query: new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1)),
    headers: flatHeaders(req),
    cookies: parseCookieHeader(req.headers.cookie),
    body,
    json: parseJson(body),
  };
  if (target.role === 'control') {
    writeReply(parts, req, res, await parts.control(simReq), undefined);
    return;
  }

  const role = target.role;
  const key = endpointKeyOf(role, target.path);
  parts.stats.count(key);
  const fault = parts.faults.match(key, simReq);
  let reply: SimReply | undefined;
  if (fault) {
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.mode === 'reset') {
      req.socket.resetAndDestroy();
      logRequest(parts, simReq, key, 0, started, fault);
      return;
    }
    reply = faultReply(fault, role);
  }
  reply ??= await dispatch(parts, role, simReq);
  if (fault) reply = withFaultHeaders(fault, reply);
  const damage: BodyDamage | undefined =
    fault && isBodyMode(fault.mode)
      ? {
          mode: fault.mode,
          afterBytes: fault.afterBytes,
          chunkBytes: fault.chunkBytes,
          chunkDelayMs: fault.chunkDelayMs,
        }
      : undefined;
  logRequest(parts, simReq, key, reply.status, started, fault);
  writeReply(parts, req, res, reply, damage);
}

function logRequest(
  parts: ServerParts,
  req: SimRequest,
  endpoint: string,
  status: number,
  started: number,
  fault: FaultRule | undefined,
): void {
  parts.log.add({
    at: parts.clock.now(),
    method: req.method,
    host: req.host,
    path: req.path,
    endpoint,
    status,
    ms: Math.round(performance.now() - started),
    ...(fault ? { fault: fault.id } : {}),
  });
}

async function dispatch(parts: ServerParts, role: HostRole, req: SimRequest): Promise<SimReply> {
  switch (role) {
    case 'idmsa':
      return handleIdmsa(parts.auth, req);
    case 'setup':
      return parts.setup.handle(req);
    case 'ckdatabasews': {
      const partition = Number(CKDATABASEWS_HOST.exec(req.host)?.[1]);
      const admitted = admitCloudKit(parts.auth, req, partition);
      if (!admitted.ok) return admitted.reply;
      const reply = await parts.cloudkit(req, {
        principal: admitted.principal,
        requestUuid: admitted.requestUuid,
      });
      return decorateCloudKitReply(parts.auth, admitted, reply);
    }
    case 'sharedstreams': {
      if (!parts.sharedstreams) return json({ error: 'unknown host' }, 404);
      const admitted = admitSharedStreams(parts.auth, req);
      if (!admitted.ok) return admitted.reply;
      return parts.sharedstreams(req, { principal: admitted.principal, requestUuid: randomUUID() });
    }
    case 'cdn':
      return parts.cdn(req);
    case 'www':
      return json({ error: 'Not Found' }, 404);
  }
}

function writeReply(
  parts: ServerParts,
  req: IncomingMessage,
  res: ServerResponse,
  reply: SimReply,
  damage: BodyDamage | undefined,
): void {
  res.statusCode = reply.status;
  res.sendDate = false;
  res.setHeader('Date', new Date(parts.clock.now()).toUTCString());
  res.setHeader('Server', 'AppleHttpServer/simulator');
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.setHeader(name, value);
  if (reply.cookies?.length) res.setHeader('Set-Cookie', reply.cookies.map(serializeSetCookie));

  const b = reply.body;
  if (b.kind === 'stream') {
    res.setHeader('Content-Type', b.contentType);
    res.setHeader('Content-Length', String(b.length));
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const source = b.open();
    const stages = damage ? [source, damageTransform(damage, b.length, res.socket!), res] : [source, res];
    pipeline(stages as [Readable, ...NodeJS.WritableStream[]]).catch(() => {
      // The client went away or a fault cut the socket: nothing left to answer.
      source.destroy();
    });
    return;
  }
  let payload: Buffer;
  switch (b.kind) {
    case 'empty':
      payload = Buffer.alloc(0);
      break;
    case 'json':
      res.setHeader('Content-Type', b.contentType ?? 'application/json;charset=UTF-8');
      payload = Buffer.from(JSON.stringify(b.value) ?? 'null');
      break;
    case 'text':
      res.setHeader('Content-Type', b.contentType);
      payload = Buffer.from(b.value, 'utf8');
      break;
    case 'bytes':
      res.setHeader('Content-Type', b.contentType);
      payload = b.value;
      break;
  }
  if (reply.status !== 204 && reply.status !== 304) res.setHeader('Content-Length', String(payload.length));
  if (req.method === 'HEAD' || reply.status === 204 || reply.status === 304) {
    res.end();
    return;
  }
  if (damage && res.socket) {
    pipeline(Readable.from([payload]), damageTransform(damage, payload.length, res.socket), res).catch(
      () => {},
    );
    return;
  }
  res.end(payload);
}
