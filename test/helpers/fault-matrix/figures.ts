/**
 * The matrix's figures, summed over its cases and printed at the end: what ran, what really
 * fired (counted by the simulator), what crashed, what recovered, and what was lost, duplicated
 * or corrupted (each must be 0).
 */

export interface ArchiveDamage {
  /** Versions of the library not in the archive. */
  readonly lost: number;
  /** Extra copies of the same bytes, and objects no manifest entry lists. */
  readonly duplicated: number;
  /** Objects whose bytes are no version of the library, or differ from their manifest entry. */
  readonly corrupted: number;
}

export interface CaseResult extends ArchiveDamage {
  readonly id: string;
  readonly seed: number;
  /** The known finding this case's mode plays (its losses are counted apart). */
  readonly knownFinding?: string;
  /** Requests the simulator answered with the case's fault (its request log), plus switches in force. */
  readonly faultsFired: number;
  /**
   * Of those, the case's own fault mode (its faults, or its switches in force while Apple was
   * called); helper faults (the refresh's 401, a slowing delay) left out. 0: the mode never played.
   */
  readonly modeFired: number;
  /** Crashes the case planned (0 for `none`); `crashes` says how many happened. */
  readonly crashesPlanned: number;
  readonly crashes: number;
  /** Of `crashes`, those while the fault was on; the others came once it had cleared. */
  readonly crashesUnderFault: number;
  /**
   * Where the planned crash went when it did not land as drawn: a mid-stream crash whose download
   * got no body (an error reply) moved to the next with one, an "after" crash whose call failed to
   * the next that succeeded; a kill that never happened, or landed outside its phase, says why.
   */
  readonly crashNote?: string;
  /** Invocations that failed (threw) while the fault was on: the next scheduled run goes on. */
  readonly invocationErrors: number;
  /** The archive equalled the library after the faults cleared (and after at most the bounded re-runs). */
  readonly recovered: boolean;
  /** Two-factor codes pushed while no person was there (must be 0: no code-push loop). */
  readonly unattendedPushes: number;
  /** A person signed in again because a run said only they could help. */
  readonly humanLogins: number;
  readonly reRuns: number;
  readonly verifyDifferences: number;
  readonly problems: readonly string[];
  readonly ms: number;
}

export class MatrixFigures {
  readonly results: CaseResult[] = [];
  readonly #started = Date.now();

  add(result: CaseResult): void {
    this.results.push(result);
  }

  totals() {
    const sum = (pick: (r: CaseResult) => number, of = this.results) => of.reduce((n, r) => n + pick(r), 0);
    const known = this.results.filter((r) => r.knownFinding !== undefined);
    const checked = this.results.filter((r) => r.knownFinding === undefined);
    return {
      cases: this.results.length,
      faultsFired: sum((r) => r.faultsFired),
      casesWithFaultFired: this.results.filter((r) => r.faultsFired > 0).length,
      modeNeverFired: this.results.filter((r) => r.modeFired === 0).length,
      crashNeverHappened: this.results.filter((r) => r.crashesPlanned > 0 && r.crashes === 0).length,
      crashOnlyAfterFaults: this.results.filter(crashOnlyAfterFaults).length,
      crashMoved: this.results.filter((r) => r.crashes > 0 && r.crashNote !== undefined).length,
      testedNothing: this.results.filter(testedNothing).length,
      crashes: sum((r) => r.crashes),
      invocationErrors: sum((r) => r.invocationErrors),
      recoveries: this.results.filter((r) => r.recovered && (r.crashes > 0 || r.faultsFired > 0)).length,
      recovered: this.results.filter((r) => r.recovered).length,
      knownFindingRecovered: known.filter((r) => r.recovered).length,
      lost: sum((r) => r.lost, checked),
      knownFindingCases: known.length,
      knownFindingLost: sum((r) => r.lost, known),
      duplicated: sum((r) => r.duplicated),
      corrupted: sum((r) => r.corrupted),
      unattendedPushes: sum((r) => r.unattendedPushes),
      humanLogins: sum((r) => r.humanLogins),
      verifyDifferences: sum((r) => r.verifyDifferences),
      wallMs: Date.now() - this.#started,
    };
  }

  print(label: string, seed: number): void {
    const t = this.totals();
    const lines = [
      `fault matrix (${label}), seed ${seed}: ${t.cases} cases in ${(t.wallMs / 1000).toFixed(1)} s`,
      `  faults fired ${t.faultsFired} (in ${t.casesWithFaultFired} cases), the mode's own fault never fired in ${t.modeNeverFired} cases, a planned crash never happened in ${t.crashNeverHappened}, ${t.testedNothing} cases tested nothing (neither)`,
      `  crashes ${t.crashes} (in ${t.crashOnlyAfterFaults} cases only once the faults had cleared; in ${t.crashMoved} moved off a call with no body or that failed), invocations failed under a fault ${t.invocationErrors}, recoveries ${t.recoveries}, recovered ${t.recovered}/${t.cases}`,
      `  lost ${t.lost}, duplicated ${t.duplicated}, corrupted ${t.corrupted}, verify differences ${t.verifyDifferences}`,
      `  known findings: ${t.knownFindingCases} cases (${t.knownFindingRecovered} recovered anyway), ${t.knownFindingLost} versions lost in them`,
      `  unattended two-factor pushes ${t.unattendedPushes}, sign-ins by a person ${t.humanLogins}`,
    ];
    for (const r of this.results.filter((x) => !x.recovered))
      lines.push(
        `  ${r.knownFinding ? 'KNOWN' : 'FAILED'} ${r.id} (case seed ${r.seed}, ${r.ms} ms): ${r.problems.slice(0, 3).join('; ')}`,
      );
    for (const r of this.results.filter(
      (x) => x.modeFired === 0 || (x.crashesPlanned > 0 && x.crashes === 0),
    ))
      lines.push(`  NOT FIRED ${r.id} (case seed ${r.seed}): ${unplayed(r).join(', ')}`);
    for (const r of this.results.filter(crashOnlyAfterFaults))
      lines.push(`  CRASH AFTER FAULTS ${r.id} (case seed ${r.seed}): ${afterFaults(r)}`);
    const slowest = [...this.results].sort((a, b) => b.ms - a.ms)[0];
    if (slowest) lines.push(`  slowest case ${slowest.id}: ${slowest.ms} ms`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

/** What a case planned but never played. */
export function unplayed(r: CaseResult): string[] {
  const out: string[] = [];
  if (r.modeFired === 0) out.push(`the mode's fault never fired (${r.faultsFired} helper faults did)`);
  if (r.crashesPlanned > 0 && r.crashes === 0)
    out.push(`the planned crash never happened${r.crashNote ? ` (${r.crashNote})` : ''}`);
  if (testedNothing(r)) out.push('the case tested nothing');
  return out;
}

/** Neither the mode's fault nor any crash happened: the case passes without testing anything. */
export function testedNothing(r: CaseResult): boolean {
  return r.modeFired === 0 && r.crashes === 0;
}

/**
 * The planned crash happened, but only once the faults had cleared (its port was not reached, or
 * got no body, while they were on): the case tested the fault and a crash, not a crash under it.
 */
export function crashOnlyAfterFaults(r: CaseResult): boolean {
  return r.crashesPlanned > 0 && r.crashes > 0 && r.crashesUnderFault === 0;
}

/** Why a case's crash came only after the faults cleared, in a line. */
export function afterFaults(r: CaseResult): string {
  return `the crash came after the faults cleared${r.crashNote ? ` (${r.crashNote})` : ''}`;
}
