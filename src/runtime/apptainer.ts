/**
 * Apptainer: images are SIF files, not entries in a store. Singularity is the same
 * command line under another binary name.
 */
import { dirname, join } from "../util/path.ts";
import type { ProcessRunner, RunRequest } from "../process/mod.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { replaceAtomic } from "../util/atomic.ts";
import { sha256File } from "../util/hash.ts";
import { runLogged } from "./build_log.ts";
import { csvFields, mustSucceed, sessionRequest, sorted } from "./oci.ts";
import {
  type ArchiveKind,
  type BuildRequest,
  type ContainerInfo,
  type ContainerRuntime,
  type ImageInfo,
  type ImageSummary,
  MANAGED_LABELS,
  type Mount,
  type RunSpec,
  type Sandbox,
} from "./types.ts";

export type SifSource =
  | { kind: "definition"; path: string }
  | { kind: "docker-archive" | "oci-archive" | "docker-daemon"; path: string };

export class ApptainerRuntime implements ContainerRuntime {
  readonly name: "apptainer" | "singularity" = "apptainer";
  readonly produces = "sif" as const;

  /**
   * `sifRoot`: the folder of venvoy's environment folders ($VENVOY_HOME/environments), where
   * listImages looks for SIFs; the caller passes it (the runtime layer knows no state paths).
   */
  constructor(
    readonly runner: ProcessRunner,
    readonly binary = "apptainer",
    readonly options: { sifRoot?: string } = {},
  ) {}

  /**
   * A definition with a %post section needs --fakeroot, as root (the root capability set
   * is restricted on many hosts) and as a user alike. Archives convert without it.
   */
  buildSifArgv(source: SifSource, out: string, req: Partial<BuildRequest> = {}): string[] {
    const argv = [this.binary, "build"];
    if (source.kind === "definition") argv.push("--fakeroot");
    argv.push("--force");
    for (const [k, v] of sorted(req.buildArgs)) argv.push("--build-arg", `${k}=${v}`);
    if (req.noCache) argv.push("--disable-cache");
    argv.push(out, source.kind === "definition" ? source.path : `${source.kind}:${source.path}`);
    return argv;
  }

  async buildSif(source: SifSource, out: string, req: Partial<BuildRequest> = {}): Promise<void> {
    if (req.network === "none") {
      throw new UsageError(`${this.name} build cannot disable networking`, {
        hint: "prove an offline rebuild with podman or docker (--engine podman)",
      });
    }
    // Build next to the target and rename, so a failed build never leaves a broken SIF.
    await replaceAtomic(out, async (tmp) => {
      await runLogged(this.runner, {
        cmd: this.buildSifArgv(source, tmp, req),
        cwd: req.contextDir,
      }, { what: `${this.name} build`, logPath: req.logPath });
    }, { tmpSuffix: ".building" });
  }

  async build(req: BuildRequest): Promise<void> {
    await this.buildSif({ kind: "definition", path: req.file }, req.tag, req);
  }

  async inspect(ref: string): Promise<ImageInfo | null> {
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(ref);
    } catch {
      return null;
    }
    const labels = await this.sifLabels(ref);
    return {
      id: `sha256:${await sha256File(ref)}`,
      digests: [],
      labels,
      architecture: labels["org.venvoy.architecture"] ?? hostArch(),
      os: "linux",
      size: stat.size,
      created: stat.mtime?.toISOString() ?? null,
    };
  }

  async sifLabels(ref: string): Promise<Record<string, string>> {
    const res = await mustSucceed(
      this.runner,
      [this.binary, "inspect", "--json", "--labels", ref],
      `${this.name} inspect`,
    );
    // deno-lint-ignore no-explicit-any
    let data: any = {};
    try {
      data = JSON.parse(res.stdout);
    } catch {
      throw new VenvoyError(`could not read ${this.name} inspect output for ${ref}`);
    }
    return { ...(data?.data?.attributes?.labels ?? {}) };
  }

  gpuArgs(): string[] {
    return ["--nv"];
  }

  /**
   * The command line. Variables are not on it: they travel as APPTAINERENV_ variables of the
   * process (runRequest), because `--env` splits a value holding a comma and an '=' into
   * two variables and trims quotes from its ends.
   */
  runArgv(spec: RunSpec): string[] {
    const argv = [this.binary, spec.command.length ? "exec" : "run"];
    // Only what the image and venvoy set: no host variables leak into the environment.
    argv.push("--cleanenv");
    if (spec.gpus) argv.push(...this.gpuArgs());
    if (spec.noHome) argv.push("--no-home");
    argv.push(...apptainerSandboxArgs(spec.sandbox));
    if (spec.network && !spec.sandbox) argv.push("--net", "--network", spec.network);
    for (const m of spec.mounts ?? []) argv.push("--mount", bindFlag(m));
    if (spec.workdir) argv.push("--pwd", spec.workdir);
    argv.push(spec.image, ...spec.command);
    return argv;
  }

  /** The run as the ProcessRunner gets it: the argv, and the variables as process env. */
  runRequest(spec: RunSpec): RunRequest {
    const req = sessionRequest(this.runArgv(spec), spec);
    if (spec.env && Object.keys(spec.env).length) req.env = envVars(this.envPrefix(), spec.env);
    return req;
  }

  /** Singularity reads SINGULARITYENV_; Apptainer reads APPTAINERENV_. */
  protected envPrefix(): string {
    return "APPTAINERENV_";
  }

  async run(spec: RunSpec): Promise<number> {
    const res = await this.runner.run(this.runRequest(spec));
    return res.code;
  }

  /**
   * Whether this site lets a sandboxed run start (`--net --network none` needs the site's
   * leave for users); null when it does, else the engine's stderr. One `true` in the image.
   */
  async sandboxRefusal(image: string, sandbox: Sandbox): Promise<string | null> {
    const req = this.runRequest({ image, command: ["true"], sandbox });
    const res = await this.runner.run({ ...req, stdin: "null", stdout: "piped", stderr: "piped" });
    return res.code === 0 ? null : res.stderr || `exit ${res.code}`;
  }

  /** No image store: a pull goes through buildSif (docker:// sources). */
  pull(_ref: string): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** Apptainer sessions are not containers venvoy names; there is nothing to remove. */
  removeContainer(ref: string): Promise<void> {
    return Promise.reject(new VenvoyError(`internal: ${this.name} has no container ${ref}`));
  }

  saveToStdoutArgv(_ref: string): string[] {
    throw new VenvoyError(`internal: ${this.name} has no image store to save from`);
  }

  /** A SIF is already a single portable file: saving copies it. */
  async save(ref: string, archivePath: string): Promise<ArchiveKind> {
    await Deno.copyFile(ref, archivePath);
    return "sif";
  }

  async load(
    archivePath: string,
    options: { target?: string; kind?: ArchiveKind } = {},
  ): Promise<string> {
    if (!options.target) {
      throw new VenvoyError(`${this.name} load needs a target SIF path`);
    }
    const kind = options.kind ?? "docker-archive";
    if (kind === "sif") {
      await Deno.mkdir(dirname(options.target), { recursive: true });
      await Deno.copyFile(archivePath, options.target);
    } else {
      await this.buildSif({ kind, path: archivePath }, options.target);
    }
    return options.target;
  }

  async remove(ref: string): Promise<void> {
    await Deno.remove(ref).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  /** Running instances. Apptainer has no labels: the image path stands in for them. */
  async listContainers(_labels: Record<string, string> = {}): Promise<ContainerInfo[]> {
    const res = await mustSucceed(
      this.runner,
      [this.binary, "instance", "list", "--json"],
      `${this.name} instance list`,
    );
    // deno-lint-ignore no-explicit-any
    const data: any = JSON.parse(res.stdout || "{}");
    // deno-lint-ignore no-explicit-any
    return (data.instances ?? []).map((i: any) => ({
      id: String(i.pid ?? ""),
      name: String(i.instance ?? ""),
      image: String(i.img ?? ""),
      status: "running",
      labels: {},
    }));
  }

  /**
   * The SIF files in venvoy's environment folders (`sifRoot`/<name>/*.sif; none without it).
   * They are venvoy's by where they are, so they carry MANAGED_LABELS without asking; the
   * SIF's own labels are read (one inspect each) only when the filter names other labels.
   */
  async listImages(labels: Record<string, string> = {}): Promise<ImageSummary[]> {
    const root = this.options.sifRoot;
    if (!root) return [];
    const sifs: string[] = [];
    for (const env of await listDir(root)) {
      if (!env.isDirectory) continue;
      for (const f of await listDir(join(root, env.name))) {
        if (f.isFile && f.name.endsWith(".sif")) sifs.push(join(root, env.name, f.name));
      }
    }
    const needInspect = Object.keys(labels).some((k) => !(k in MANAGED_LABELS));
    const found: ImageSummary[] = [];
    for (const path of sifs.sort()) {
      const own = needInspect ? await this.sifLabels(path) : {};
      const all = { ...own, ...MANAGED_LABELS };
      if (!Object.entries(labels).every(([k, v]) => all[k] === v)) continue;
      const size = (await Deno.stat(path)).size;
      found.push({ id: path, refs: [path], labels: all, size });
    }
    return found;
  }
}

async function listDir(dir: string): Promise<Deno.DirEntry[]> {
  try {
    return await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

export class SingularityRuntime extends ApptainerRuntime {
  override readonly name = "singularity" as const;

  constructor(runner: ProcessRunner, binary = "singularity", options: { sifRoot?: string } = {}) {
    super(runner, binary, options);
  }

  protected override envPrefix(): string {
    return "SINGULARITYENV_";
  }
}

/**
 * The session's variables as `<prefix><NAME>` process variables, each value escaped
 * (escapeEnvValue): they arrive in the container byte for byte, commas, quotes, spaces,
 * newlines and `$` included.
 */
export function envVars(prefix: string, env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of sorted(env)) out[`${prefix}${k}`] = escapeEnvValue(v);
  return out;
}

/**
 * Apptainer flags for RunSpec.sandbox: --containall (its own PID, IPC and mount namespaces,
 * no home, /tmp or current folder of the host, a clean environment), no bind paths of the
 * site's apptainer.conf, no privileges even as root, and no network (`--net --network
 * none`, which Apptainer 1.4 allows unprivileged users too). Memory and process limits
 * need cgroups the site may not delegate: they are passed only when asked for.
 */
export function apptainerSandboxArgs(sandbox: Sandbox | undefined): string[] {
  if (!sandbox) return [];
  const argv = ["--containall", "--no-mount", "bind-paths", "--no-privs"];
  if (!sandbox.network) argv.push("--net", "--network", "none");
  if (sandbox.memory !== null) argv.push("--memory", sandbox.memory);
  if (sandbox.pids !== null) argv.push("--pids-limit", String(sandbox.pids));
  return argv;
}

/**
 * Apptainer evaluates variable values (`--env` and APPTAINERENV_ alike) like a shell word
 * inside double quotes ($VAR, `cmd` and backslashes are interpreted), so escape exactly those
 * characters to pass the value as is.
 */
export function escapeEnvValue(value: string): string {
  return value.replace(/[\\$`]/g, (c) => `\\${c}`);
}

/** Apptainer's --mount takes the same CSV form as docker's, with `destination`. */
export function bindFlag(m: Mount): string {
  const fields = ["type=bind", `source=${m.source}`, `destination=${m.target}`];
  if (m.readOnly) fields.push("ro");
  return csvFields(fields);
}

function hostArch(): string {
  return Deno.build.arch === "x86_64" ? "amd64" : "arm64";
}
