/** Shared helpers for integration tests: which real runtimes the lab offers. */
import { DenoRunner } from "../../src/process/mod.ts";
import { probeRuntimes, type RuntimeProbe } from "../../src/runtime/detect.ts";

export const LAB_DEBIAN = "localhost/venvoy-lab/debian:bookworm";
export const LAB_PYTHON = "localhost/venvoy-lab/python:3.11";
export const LAB_R = "localhost/venvoy-lab/r:4.2";

export const runner = new DenoRunner();
const probes = await probeRuntimes(runner);

export function probe(name: RuntimeProbe["name"]): RuntimeProbe | undefined {
  return probes.find((p) => p.name === name && p.usable);
}

async function imagePresent(ref: string): Promise<boolean> {
  if (!probe("podman")) return false;
  const res = await runner.run({ cmd: ["podman", "image", "exists", ref] });
  return res.code === 0;
}

export const hasLabImage = await imagePresent(LAB_DEBIAN);

/** Why a test for this engine must be skipped, or null when it can run. Printed once. */
export function skipReason(name: RuntimeProbe["name"]): string | null {
  const p = probes.find((x) => x.name === name);
  if (!p) return `${name} is not installed (run tests/lab/setup.sh)`;
  if (!p.usable) return `${name} is not usable: ${p.reason}`;
  if (!hasLabImage) return `lab image ${LAB_DEBIAN} is missing (run tests/lab/setup.sh)`;
  return null;
}

const announced = new Set<string>();
export function ignoreUnless(name: RuntimeProbe["name"]): boolean {
  const why = skipReason(name);
  if (why && !announced.has(name)) {
    announced.add(name);
    console.error(`SKIP ${name} integration tests: ${why}`);
  }
  return why !== null;
}

export async function tempDir(prefix: string): Promise<string> {
  return await Deno.makeTempDir({ prefix: `venvoy-it-${prefix}-` });
}
