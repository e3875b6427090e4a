import type { ProcessRunner } from "../process/mod.ts";
import { OciCli, ociSandboxArgs } from "./oci.ts";
import type { RunSpec } from "./types.ts";

export class DockerRuntime extends OciCli {
  readonly name = "docker" as const;
  /** "podman" when this docker CLI talks to a Podman Engine (API socket or shim). */
  readonly backend: "docker" | "podman";
  #rootless: boolean | undefined;

  constructor(
    runner: ProcessRunner,
    binary = "docker",
    options: { backend?: "docker" | "podman"; rootless?: boolean } = {},
  ) {
    super(runner, binary);
    this.backend = options.backend ?? "docker";
    this.#rootless = options.rootless;
  }

  /**
   * The engine behind this CLI runs as this (non-root) user, in its own user namespace:
   * rootless Podman's API socket, the podman-docker shim run by a user, rootless Docker.
   * Given by detection; otherwise worked out once from files, never by spawning (`run`).
   */
  get rootless(): boolean {
    return this.#rootless ??= engineRunsAsThisUser(this.runner, this.binary);
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

  /**
   * Files written to the mounts belong to the host user. A daemon running as root maps
   * nothing, so the session runs as the host uid:gid. An engine in this user's namespace
   * maps its root, and only its root, onto the host user (any other uid is a subordinate
   * id: the bind mounts refuse to be written), and the docker CLI cannot ask for podman's
   * keep-id (`--userns` takes only "host"): there the session runs as 0:0.
   */
  userArgs(user: { uid: number; gid: number }): string[] {
    return ["--user", this.rootless ? "0:0" : `${user.uid}:${user.gid}`];
  }

  runArgv(spec: RunSpec): string[] {
    const argv = [this.binary, "run"];
    if (spec.user) argv.push(...this.userArgs(spec.user));
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

/**
 * Where this docker CLI connects, read as the CLI reads it, without running it: DOCKER_HOST,
 * else the endpoint of DOCKER_CONTEXT or config.json's currentContext (its meta.json under
 * contexts/meta/), else the default socket.
 */
export function dockerEndpointFromFiles(env: (name: string) => string | undefined): string {
  const host = env("DOCKER_HOST");
  if (host) return host;
  const home = env("HOME");
  const dir = env("DOCKER_CONFIG") || (home ? `${home}/.docker` : null);
  const context = env("DOCKER_CONTEXT") ||
    (dir ? readJson(`${dir}/config.json`)?.currentContext : undefined);
  if (dir && typeof context === "string" && context && context !== "default") {
    for (const entry of readDir(`${dir}/contexts/meta`)) {
      const meta = readJson(`${dir}/contexts/meta/${entry}/meta.json`);
      const endpoint = meta?.Name === context ? meta?.Endpoints?.docker?.Host : undefined;
      if (typeof endpoint === "string" && endpoint) return endpoint;
    }
  }
  return "unix:///var/run/docker.sock";
}

/**
 * Whether the engine behind `binary` runs as this non-root user: the podman-docker shim
 * (podman itself, run by this user, no CONTAINER_HOST), or a local socket this user owns
 * (a root daemon's socket is root's). A stat and a few small reads; nothing is spawned.
 */
export function engineRunsAsThisUser(
  runner: ProcessRunner,
  binary: string,
  options: { endpoint?: string; uid?: number | null } = {},
): boolean {
  const uid = options.uid === undefined ? (Deno.uid?.() ?? null) : options.uid;
  if (uid === null || uid === 0) return false;
  const endpoint = options.endpoint ?? dockerEndpointFromFiles((n) => runner.env(n));
  if (isPodmanShim(binary) && !runner.env("CONTAINER_HOST")) return true;
  if (!endpoint.startsWith("unix://")) return false;
  try {
    return Deno.statSync(endpoint.slice("unix://".length)).uid === uid;
  } catch {
    return false;
  }
}

/** podman-docker installs /usr/bin/docker as a small script that execs podman. */
export function isPodmanShim(path: string): boolean {
  if (!path.includes("/")) return false; // a bare name: not looked up here
  try {
    const st = Deno.statSync(path);
    if (!st.isFile || st.size > 4096) return false;
    const head = new TextDecoder().decode(Deno.readFileSync(path));
    return head.startsWith("#!") && /podman/.test(head);
  } catch {
    return false;
  }
}

// deno-lint-ignore no-explicit-any
function readJson(path: string): any {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch {
    return null;
  }
}

function readDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].filter((e) => e.isDirectory).map((e) => e.name);
  } catch {
    return [];
  }
}

function randomSuffix(): string {
  return crypto.randomUUID().slice(0, 12);
}
