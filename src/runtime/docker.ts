import type { ProcessRunner } from "../process/mod.ts";
import { OciCli, ociSandboxArgs } from "./oci.ts";
import type { RunSpec } from "./types.ts";

export class DockerRuntime extends OciCli {
  readonly name = "docker" as const;
  /** "podman" when this docker CLI talks to a Podman Engine (API socket or shim). */
  readonly backend: "docker" | "podman";

  constructor(
    runner: ProcessRunner,
    binary = "docker",
    options: { backend?: "docker" | "podman" } = {},
  ) {
    super(runner, binary);
    this.backend = options.backend ?? "docker";
  }

  /** BuildKit is not served by the Podman API: ask for the classic builder there. */
  protected override buildEnv(): Record<string, string> {
    return this.backend === "podman" ? { DOCKER_BUILDKIT: "0" } : {};
  }

  /**
   * No --rm: through the Podman 4.x Docker API `docker run --rm` always exits 0
   * (containers/podman#18889). The container is named, its real exit code read back,
   * and it is removed afterwards, on every backend alike.
   */
  gpuArgs(): string[] {
    return ["--gpus", "all"];
  }

  runArgv(spec: RunSpec): string[] {
    const argv = [this.binary, "run"];
    if (spec.user) argv.push("--user", `${spec.user.uid}:${spec.user.gid}`);
    if (spec.gpus) argv.push(...this.gpuArgs());
    argv.push(...ociSandboxArgs(spec.sandbox));
    argv.push(...this.commonRunFlags(spec), spec.image, ...spec.command);
    return argv;
  }

  override async run(spec: RunSpec): Promise<number> {
    const named = spec.name ? spec : { ...spec, name: `venvoy-run-${randomSuffix()}` };
    const res = await this.runner.run(this.runRequest(named));
    try {
      // Killed at its time limit: the container is still running (its exit code says 0).
      if (res.timedOut) return res.code;
      const state = await this.runner.run({
        cmd: [this.binary, "container", "inspect", "--format", "{{.State.ExitCode}}", named.name!],
      });
      const code = Number.parseInt(state.stdout.trim(), 10);
      // The CLI's own failures (125: bad flags, image missing) have no container to ask.
      return state.code === 0 && Number.isFinite(code) ? code : res.code;
    } finally {
      await this.runner.run({ cmd: [this.binary, "rm", "-f", named.name!] });
    }
  }
}

function randomSuffix(): string {
  return crypto.randomUUID().slice(0, 12);
}
