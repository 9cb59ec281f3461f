/** What the figures were measured on. */
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";

export interface Machine {
  cpu: string;
  /** Logical CPUs this process may use. */
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  /** e.g. "15.8 at 127.0.0.1:5432", or why it was not used. */
  postgres: string;
  /** 1-minute load average when the run began: other work on the machine. */
  loadAverage: number;
}

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (match != null) return match[1].trim();
  } catch {
    // Not Linux: fall back below.
  }
  return cpus()[0]?.model ?? "unknown";
}

function memoryGiB(): number {
  try {
    const match = /^MemTotal:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (match != null) return Number(match[1]) / 1024 / 1024;
  } catch {
    // Fall back below.
  }
  return totalmem() / 2 ** 30;
}

export function describeMachine(postgres: string): Machine {
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    memoryGiB: memoryGiB(),
    node: process.version,
    kernel: `Linux ${release()}`,
    postgres,
    loadAverage: loadavg()[0],
  };
}

export function formatMachine(machine: Machine): string {
  return [
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB RAM, ${machine.kernel}; load average ${machine.loadAverage.toFixed(2)} at start`,
    `Node: ${machine.node}; PostgreSQL: ${machine.postgres}`,
  ].join("\n");
}
