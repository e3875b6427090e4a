/** The runtime layer: one interface, an adapter per engine, detection and choice. */
import type { ProcessRunner } from "../process/mod.ts";
import { RuntimeUnavailableError } from "../ui/errors.ts";
import { ApptainerRuntime, SingularityRuntime } from "./apptainer.ts";
import { detect, type Detection } from "./detect.ts";
import { DockerRuntime } from "./docker.ts";
import { PodmanRuntime } from "./podman.ts";
import type { ContainerRuntime } from "./types.ts";
import { adviceText, currentPlatformKey } from "./advice.ts";
import { createRuntime, parseEngine } from "./create.ts";

export * from "./types.ts";
export type { Detection, HpcVerdict, RuntimeProbe } from "./detect.ts";
export { ApptainerRuntime, DockerRuntime, PodmanRuntime, SingularityRuntime };
export { createRuntime, parseEngine } from "./create.ts";

/** Detect, choose, and return the adapter, or fail with exit 3 and install advice. */
export async function resolveRuntime(
  runner: ProcessRunner,
  options: { engine?: string | null } = {},
): Promise<{ runtime: ContainerRuntime; detection: Detection }> {
  const engine = parseEngine(options.engine, "--engine") ??
    parseEngine(runner.env("VENVOY_ENGINE"), "VENVOY_ENGINE");
  const detection = await detect(runner, { engine });
  if (!detection.chosen) throw noRuntimeError(detection);
  return { runtime: createRuntime(detection.chosen.name, runner, detection.chosen), detection };
}

export function noRuntimeError(detection: Detection): RuntimeUnavailableError {
  // An installed engine that one step would make usable: that step, not install advice.
  if (detection.hint) {
    return new RuntimeUnavailableError(detection.reason, {
      hint: `${detection.hint}\nthen check with \`venvoy runtime-info\``,
    });
  }
  const key = currentPlatformKey(detection.platform.os, readOsRelease(), detection.hpc.hpc);
  return new RuntimeUnavailableError(detection.reason, {
    hint: `install a container runtime, then run \`venvoy runtime-info\`:\n${adviceText(key)}`,
  });
}

export function readOsRelease(): string {
  for (const p of ["/etc/os-release", "/proc/version"]) {
    try {
      return Deno.readTextFileSync(p);
    } catch { /* try the next */ }
  }
  return "";
}
