/** The machine a benchmark ran on, printed beside its figures. */
import { cpus, loadavg, totalmem } from 'node:os';
import { mib } from './units.ts';

export interface MachineInfo {
  readonly date: string;
  readonly node: string;
  readonly platform: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryMiB: number;
  /** 1-minute load average when the run started (other work on a shared machine skews figures). */
  readonly loadAverage: number;
}

export function describeMachine(): MachineInfo {
  const cores = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    memoryMiB: Math.round(mib(totalmem())),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
