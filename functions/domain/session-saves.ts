/**
 * How often a session whose only change is the rotated X-APPLE-WEBAUTH-TOKEN is written back.
 * Every CloudKit answer rotates that cookie (docs/protocol/session.md#http-conventions), so
 * writing on every change would write on every run and every worker invocation: on AWS, each
 * write is a new version of the secret, and Secrets Manager refuses a put once a secret holds
 * 100 versions created in the last 24 hours (it asks for no more than one PutSecretValue every
 * 10 minutes, sustained). A cookie rotated away stays usable for a while (an hour in the
 * simulator; Apple's grace is unknown, but runs have relied on 30 minutes since the start), so
 * a rotated-only session is written once it is this old: at most 48 writes a day, leaving room
 * under the quota for the refreshed sessions, which are always written at once.
 */
export const ROTATED_SESSION_SAVE_INTERVAL_MS = 30 * 60 * 1000;
