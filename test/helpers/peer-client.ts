/**
 * A small stand-alone iCloud client shaped like icloudpd (pyicloud_ipd), for checking that the
 * simulator serves a peer that is not ours. It shares no code with `functions/`: its own cookie jar
 * (tough-cookie, keyed on Apple URLs), the independent SRP client of `srp-client.ts`, plain `fetch`.
 *
 * What it copies from the recorded icloudpd exchanges (test/fixtures/recorded/icloudpd): the browser
 * headers of its session (Origin/Referer `https://www.icloud.com`, a desktop Chrome User-Agent), the
 * OAuth/widget headers with an upper-case UUID as `X-Apple-OAuth-State`, `Accept: *\/*`, signin/init
 * and signin/complete sent with the same headers (so complete carries neither `scnt` nor a session id),
 * `accountLogin` before two-factor, `text/plain` CloudKit bodies with the `clientBuildNumber…`
 * query, and the download of `downloadURL` with its `${f}` left in. Its quirk: it sends the value of
 * `X-Apple-Session-Token` as `X-Apple-ID-Session-Id` on the two-factor calls.
 *
 * What it does the 2026 way (icloudpd PR #1335, kei v0.6.1): after the 409 it triggers a code once
 * with `PUT verify/trusteddevice/securitycode` (no body), submits the code, takes a 409 as success only
 * when `securityCode.valid` is true, then `2sv/trust` and `accountLogin` again.
 */
import { randomUUID } from 'node:crypto';
import { CookieJar } from 'tough-cookie';
import { TestSrpClient } from './srp-client.ts';

const WIDGET_KEY = 'd39ba9916b7251055b22c7f910e2ea796ee65e98b2ddecea8f5dde8d9d1a815d';
const AUTH = 'https://idmsa.apple.com/appleauth/auth';
const SETUP = 'https://setup.icloud.com/setup/ws/1';
const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36';

/** One call the peer made: what a test can check about its order (never a token or cookie value). */
export interface PeerCall {
  readonly method: string;
  readonly url: string;
  readonly status: number;
}

export class PeerFailure extends Error {
  override readonly name = 'PeerFailure';
}

export interface PeerAsset {
  readonly recordName: string;
  readonly filename: string;
  readonly size: number;
  readonly downloadURL: string;
}

export class IcloudpdLikePeer {
  readonly calls: PeerCall[] = [];
  readonly #jar = new CookieJar();
  readonly #clientId = randomUUID().toUpperCase();
  /** session_data as pyicloud_ipd keeps it: only the last non-empty value of each header. */
  readonly #session = new Map<string, string>();
  #account: Record<string, unknown> | undefined;

  /**
   * @param baseUrl the simulator's base URL; Apple URLs are rewritten to `<baseUrl>/<host>/<path>`
   *   at the moment of sending, the cookie jar stays keyed on the Apple URL.
   */
  constructor(
    readonly baseUrl: string,
    readonly appleId: string,
    readonly password: string,
  ) {}

  /** SRP sign-in, accountLogin, and two-factor with the code `askCode` returns (the user reading the device). */
  async signIn(askCode: () => Promise<string>): Promise<void> {
    const headers = this.#authHeaders();
    const srp = new TestSrpClient(this.appleId, this.password);
    const init = await this.#send('POST', `${AUTH}/signin/init`, headers, {
      a: srp.publicValue,
      accountName: this.appleId,
      protocols: ['s2k', 's2k_fo'],
    });
    if (init.status !== 200) throw new PeerFailure(`signin/init answered ${init.status}`);
    const challenge = (await init.json()) as {
      salt: string;
      b: string;
      c: string;
      iteration: number;
      protocol: string;
    };
    // icloudpd reuses the headers it built before init: no scnt, no session id.
    const complete = await this.#send('POST', `${AUTH}/signin/complete?isRememberMeEnabled=true`, headers, {
      accountName: this.appleId,
      c: challenge.c,
      ...srp.proofs(challenge),
      rememberMe: true,
      trustTokens: this.#session.has('trust_token') ? [this.#session.get('trust_token')] : [],
    });
    await complete.arrayBuffer();
    if (complete.status !== 409 && complete.status !== 200) {
      throw new PeerFailure(`signin/complete answered ${complete.status}`);
    }
    await this.#accountLogin();
    if (!this.#needsTwoFactor()) return;

    const trigger = await this.#send(
      'PUT',
      `${AUTH}/verify/trusteddevice/securitycode`,
      this.#twoFactorHeaders(),
    );
    await trigger.arrayBuffer();
    if (trigger.status < 200 || trigger.status >= 300)
      throw new PeerFailure(`code trigger answered ${trigger.status}`);
    const code = await askCode();
    const verify = await this.#send(
      'POST',
      `${AUTH}/verify/trusteddevice/securitycode`,
      this.#twoFactorHeaders(),
      {
        securityCode: { code },
      },
    );
    const answer =
      verify.status === 204 ? {} : ((await verify.json()) as { securityCode?: { valid?: unknown } });
    const accepted = verify.status === 204 || (verify.status === 409 && answer.securityCode?.valid === true);
    if (!accepted) throw new PeerFailure(`code refused: ${verify.status}`);

    const trust = await this.#send('GET', `${AUTH}/2sv/trust`, this.#authHeaders());
    await trust.arrayBuffer();
    if (trust.status !== 204) throw new PeerFailure(`2sv/trust answered ${trust.status}`);
    await this.#accountLogin();
    if (this.#needsTwoFactor()) throw new PeerFailure('accountLogin still asks for two-factor');
  }

  /** The first page of the library (`CPLAssetAndMasterByAddedDate`, 200 per page) as icloudpd asks for it. */
  async listFirstPage(): Promise<PeerAsset[]> {
    const res = await this.#cloudkit('records/query', {
      query: {
        filterBy: [
          { fieldName: 'startRank', fieldValue: { type: 'INT64', value: 0 }, comparator: 'EQUALS' },
          {
            fieldName: 'direction',
            fieldValue: { type: 'STRING', value: 'ASCENDING' },
            comparator: 'EQUALS',
          },
        ],
        recordType: 'CPLAssetAndMasterByAddedDate',
      },
      resultsLimit: 200,
      desiredKeys: [
        'filenameEnc',
        'resOriginalRes',
        'resOriginalFileType',
        'itemType',
        'recordName',
        'masterRef',
      ],
      zoneID: { zoneName: 'PrimarySync' },
    });
    const body = (await res.json()) as {
      records: { recordName: string; recordType: string; fields: Record<string, { value?: unknown }> }[];
    };
    return body.records
      .filter((r) => r.recordType === 'CPLMaster')
      .map((r) => {
        const original = r.fields['resOriginalRes']?.value as { size: number; downloadURL: string };
        const filename = Buffer.from(String(r.fields['filenameEnc']?.value ?? ''), 'base64').toString('utf8');
        return { recordName: r.recordName, filename, size: original.size, downloadURL: original.downloadURL };
      });
  }

  /** Downloads an original as icloudpd does: the `downloadURL` as given, `${f}` and all. */
  async download(asset: PeerAsset): Promise<Buffer> {
    const res = await this.#send('GET', asset.downloadURL, this.#homeHeaders());
    if (res.status !== 200) throw new PeerFailure(`download answered ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async #cloudkit(path: string, body: unknown): Promise<Response> {
    const services = this.#account?.['webservices'] as Record<string, { url: string }> | undefined;
    const base = services?.['ckdatabasews']?.url;
    if (!base) throw new PeerFailure('no ckdatabasews in the account document');
    const dsid = String((this.#account?.['dsInfo'] as { dsid?: string } | undefined)?.dsid);
    const query = new URLSearchParams({
      clientBuildNumber: '2522Project44',
      clientMasteringNumber: '2522B2',
      clientId: this.#clientId,
      dsid,
      remapEnums: 'True',
      getCurrentSyncToken: 'True',
    });
    const url = `${base}/database/1/com.apple.photos.cloud/production/private/${path}?${query}`;
    const res = await this.#send('POST', url, { ...this.#homeHeaders(), 'Content-type': 'text/plain' }, body);
    if (res.status !== 200) throw new PeerFailure(`${path} answered ${res.status}`);
    return res;
  }

  async #accountLogin(): Promise<void> {
    const res = await this.#send('POST', `${SETUP}/accountLogin`, this.#homeHeaders(), {
      accountCountryCode: this.#session.get('account_country'),
      dsWebAuthToken: this.#session.get('session_token'),
      extended_login: true,
      trustToken: this.#session.get('trust_token') ?? '',
    });
    if (res.status !== 200) throw new PeerFailure(`accountLogin answered ${res.status}`);
    this.#account = (await res.json()) as Record<string, unknown>;
  }

  /** pyicloud_ipd's `requires_2fa`. */
  #needsTwoFactor(): boolean {
    const account = this.#account ?? {};
    const dsInfo = (account['dsInfo'] ?? {}) as Record<string, unknown>;
    return (
      dsInfo['hsaVersion'] === 2 &&
      (account['hsaChallengeRequired'] === true || account['hsaTrustedBrowser'] !== true) &&
      dsInfo['hasICloudQualifyingDevice'] === true
    );
  }

  #homeHeaders(): Record<string, string> {
    return {
      Accept: '*/*',
      Origin: 'https://www.icloud.com',
      Referer: 'https://www.icloud.com/',
      'User-Agent': USER_AGENT,
    };
  }

  /** `_get_auth_headers`, as recorded: widget and OAuth headers, the last scnt and session id. */
  #authHeaders(overrides: Record<string, string> = {}): Record<string, string> {
    const scnt = this.#session.get('scnt');
    const sessionId = this.#session.get('session_id');
    return {
      ...this.#homeHeaders(),
      'Content-Type': 'application/json',
      'X-Apple-OAuth-Client-Id': WIDGET_KEY,
      'X-Apple-OAuth-Client-Type': 'firstPartyAuth',
      'X-Apple-OAuth-Redirect-URI': 'https://www.icloud.com',
      'X-Apple-OAuth-Require-Grant-Code': 'true',
      'X-Apple-OAuth-Response-Mode': 'web_message',
      'X-Apple-OAuth-Response-Type': 'code',
      'X-Apple-OAuth-State': this.#clientId,
      'X-Apple-Widget-Key': WIDGET_KEY,
      ...(scnt ? { scnt } : {}),
      ...(sessionId ? { 'X-Apple-ID-Session-Id': sessionId } : {}),
      ...overrides,
    };
  }

  /** The two-factor calls: JSON Accept, and the quirk of the session token in `X-Apple-ID-Session-Id`. */
  #twoFactorHeaders(): Record<string, string> {
    const token = this.#session.get('session_token');
    return this.#authHeaders({
      Accept: 'application/json',
      ...(token ? { 'X-Apple-ID-Session-Id': token } : {}),
    });
  }

  async #send(
    method: string,
    appleUrl: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<Response> {
    const cookie = await this.#jar.getCookieString(appleUrl);
    const target = new URL(appleUrl);
    const res = await fetch(`${this.baseUrl}/${target.host}${target.pathname}${target.search}`, {
      method,
      headers: { ...headers, ...(cookie ? { Cookie: cookie } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    for (const line of res.headers.getSetCookie()) await this.#jar.setCookie(line, appleUrl);
    for (const [header, key] of SESSION_HEADERS) {
      const value = res.headers.get(header);
      if (value) this.#session.set(key, value);
    }
    this.calls.push({ method, url: `${target.host}${target.pathname}`, status: res.status });
    return res;
  }
}

/** pyicloud_ipd's HEADER_DATA: response headers copied into session_data. */
const SESSION_HEADERS: readonly (readonly [string, string])[] = [
  ['x-apple-id-account-country', 'account_country'],
  ['x-apple-id-session-id', 'session_id'],
  ['x-apple-session-token', 'session_token'],
  ['x-apple-twosv-trust-token', 'trust_token'],
  ['scnt', 'scnt'],
];
