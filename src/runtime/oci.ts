/**
 * Shared logic for the two OCI command lines, docker and podman: their build, inspect,
 * save and load verbs take the same flags. Each subclass adds only what differs.
 */
import { ProcessError, VenvoyError } from "../ui/errors.ts";
import type { ProcessRunner, RunRequest, RunResult } from "../process/mod.ts";
import type {
  ArchiveKind,
  BuildRequest,
  ContainerInfo,
  ContainerRuntime,
  EngineName,
  ImageInfo,
  ImageSummary,
  Mount,
  RunSpec,
  Sandbox,
} from "./types.ts";
import { runLogged } from "./build_log.ts";

export abstract class OciCli implements ContainerRuntime {
  abstract readonly name: EngineName;
  readonly produces = "image" as const;

  constructor(readonly runner: ProcessRunner, readonly binary: string) {}

  /** Extra environment for build commands (docker on podman: the classic builder). */
  protected buildEnv(): Record<string, string> {
    return {};
  }

  /** Flags specific to the engine, placed right after `build`. */
  protected buildFlags(): string[] {
    return [];
  }

  buildArgv(req: BuildRequest): string[] {
    const argv = [this.binary, "build", ...this.buildFlags(), "--force-rm", "-t", req.tag];
    argv.push("-f", req.file);
    for (const [k, v] of sorted(req.labels)) argv.push("--label", `${k}=${v}`);
    for (const [k, v] of sorted(req.buildArgs)) argv.push("--build-arg", `${k}=${v}`);
    if (req.network) argv.push("--network", req.network);
    if (req.noCache) argv.push("--no-cache");
    argv.push(req.contextDir);
    return argv;
  }

  async build(req: BuildRequest): Promise<void> {
    await runLogged(this.runner, { cmd: this.buildArgv(req), env: this.buildEnv() }, {
      what: `${this.name} build`,
      logPath: req.logPath,
    });
  }

  async inspect(ref: string): Promise<ImageInfo | null> {
    const res = await this.runner.run({ cmd: [this.binary, "image", "inspect", ref] });
    if (res.code !== 0) {
      if (/no such image|image not known|not found/i.test(res.stderr)) return null;
      throw new ProcessError([this.binary, "image", "inspect", ref], res, {
        what: `${this.name} image inspect`,
      });
    }
    return parseImageInspect(res.stdout);
  }

  /** argv for the run itself. */
  abstract runArgv(spec: RunSpec): string[];
  abstract gpuArgs(): string[];

  async run(spec: RunSpec): Promise<number> {
    const res = await this.runner.run(this.runRequest(spec));
    return res.code;
  }

  protected runRequest(spec: RunSpec): RunRequest {
    return sessionRequest(this.runArgv(spec), spec);
  }

  /** The flags shared by `docker run` and `podman run`, after the engine's own. */
  protected commonRunFlags(spec: RunSpec): string[] {
    const argv: string[] = [];
    if (spec.interactive) argv.push("-i");
    if (spec.tty) argv.push("-t");
    if (spec.name) argv.push("--name", spec.name);
    for (const [k, v] of sorted(spec.labels)) argv.push("--label", `${k}=${v}`);
    if (spec.network) argv.push("--network", spec.network);
    for (const m of spec.mounts ?? []) argv.push("--mount", mountFlag(m));
    for (const [k, v] of sorted(spec.env)) argv.push("-e", `${k}=${v}`);
    if (spec.workdir) argv.push("-w", spec.workdir);
    return argv;
  }

  async save(ref: string, archivePath: string): Promise<ArchiveKind> {
    const cmd = [this.binary, "save", ...this.saveFlags(), "-o", archivePath, ref];
    await mustSucceed(this.runner, cmd, `${this.name} save`);
    return "docker-archive";
  }

  protected saveFlags(): string[] {
    return [];
  }

  saveToStdoutArgv(ref: string): string[] {
    return [this.binary, "save", ...this.saveFlags(), ref];
  }

  async pull(ref: string): Promise<boolean> {
    return (await this.runner.run({ cmd: [this.binary, "pull", ref] })).code === 0;
  }

  async removeContainer(ref: string, options: { ignoreMissing?: boolean } = {}): Promise<void> {
    const cmd = [this.binary, "rm", "-f", ...(options.ignoreMissing ? ["--ignore"] : []), ref];
    const res = await this.runner.run({ cmd });
    if (res.code !== 0 && !/no such container|no container with/i.test(res.stderr)) {
      throw new ProcessError(cmd, res, { what: `${this.name} rm` });
    }
  }

  /**
   * `<engine> load -i`, then venvoy's own tag. With `expectId`, the loaded image must be
   * that ID before it is tagged; otherwise nothing is tagged and nothing removed (an ID
   * removed here could be someone else's image). The tar's own names must be stripped
   * first (archive/image_tar.ts): the engine applies them on load.
   */
  async load(
    archivePath: string,
    options: { target?: string; kind?: ArchiveKind; expectId?: string } = {},
  ): Promise<string> {
    const res = await mustSucceed(
      this.runner,
      [this.binary, "load", "-i", archivePath],
      `${this.name} load`,
    );
    const loaded = parseLoaded(res.stdout + "\n" + res.stderr);
    if (!loaded) {
      throw new VenvoyError(`${this.name} load did not say what it loaded`, {
        hint: `output was: ${res.stdout.trim() || res.stderr.trim()}`,
      });
    }
    if (options.expectId) {
      const id = /^sha256:[0-9a-f]{64}$/.test(loaded)
        ? loaded
        : (await this.inspect(loaded))?.id ?? null;
      if (id !== options.expectId) {
        throw new VenvoyError(
          `${this.name} loaded image ${id ?? loaded}, not the expected ${options.expectId}`,
          { hint: "the archive's image is not what its manifest says; nothing was tagged" },
        );
      }
      if (options.target) {
        await mustSucceed(
          this.runner,
          [this.binary, "tag", id, options.target],
          `${this.name} tag`,
        );
        return options.target;
      }
      return id;
    }
    if (options.target && options.target !== loaded) {
      await mustSucceed(
        this.runner,
        [this.binary, "tag", loaded, options.target],
        `${this.name} tag`,
      );
      return options.target;
    }
    return loaded;
  }

  async remove(ref: string): Promise<void> {
    const cmd = [this.binary, "image", "rm", ref];
    const res = await this.runner.run({ cmd });
    if (res.code !== 0 && !/no such image|image not known|not found/i.test(res.stderr)) {
      throw new ProcessError(cmd, res, { what: `${this.name} image rm` });
    }
  }

  listArgv(labels: Record<string, string> = {}): string[] {
    const argv = [this.binary, "ps", "-a", "--no-trunc"];
    for (const [k, v] of sorted(labels)) argv.push("--filter", `label=${k}=${v}`);
    argv.push("--format", "{{json .}}");
    return argv;
  }

  async listContainers(labels: Record<string, string> = {}): Promise<ContainerInfo[]> {
    const res = await mustSucceed(this.runner, this.listArgv(labels), `${this.name} ps`);
    return parseContainerList(res.stdout);
  }

  /** The `--format` value that makes `images` print JSON. */
  protected imagesFormat(): string {
    return "{{json .}}";
  }

  listImagesArgv(labels: Record<string, string> = {}): string[] {
    const argv = [this.binary, "images", "--no-trunc"];
    for (const [k, v] of sorted(labels)) argv.push("--filter", `label=${k}=${v}`);
    argv.push("--format", this.imagesFormat());
    return argv;
  }

  async listImages(labels: Record<string, string> = {}): Promise<ImageSummary[]> {
    const res = await mustSucceed(this.runner, this.listImagesArgv(labels), `${this.name} images`);
    return parseImageList(res.stdout, labels);
  }
}

/** `--mount` rather than `-v`: host paths may contain ':' (Windows drives, odd names). */
export function mountFlag(m: Mount): string {
  const fields = [`type=bind`, `source=${m.source}`, `target=${m.target}`];
  if (m.readOnly) fields.push("readonly");
  return csvFields(fields);
}

/** Docker, Podman and Apptainer parse --mount as CSV: a field with a comma or quote is quoted. */
export function csvFields(fields: string[]): string {
  return fields.map((f) => (/[",]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(",");
}

/**
 * A session attached to venvoy's terminal: output shown, signals passed on. A sandboxed one
 * starts in its own folder and is killed (SIGKILL) when its time is up.
 */
export function sessionRequest(
  cmd: string[],
  spec: Pick<RunSpec, "interactive" | "sandbox">,
): RunRequest {
  const req: RunRequest = {
    cmd,
    stdin: spec.interactive ? "inherit" : "null",
    stdout: "inherit",
    stderr: "inherit",
    forwardSignals: true,
  };
  if (spec.sandbox) {
    req.cwd = spec.sandbox.hostCwd;
    if (spec.sandbox.timeoutMs !== null) req.timeoutMs = spec.sandbox.timeoutMs;
  }
  return req;
}

/**
 * docker and podman run flags for RunSpec.sandbox: no network (unless asked for), every
 * capability dropped, no new privileges (setuid binaries gain nothing), memory and process
 * limits. No --ulimit: a single one drops podman's configured defaults.
 */
export function ociSandboxArgs(sandbox: Sandbox | undefined): string[] {
  if (!sandbox) return [];
  const argv: string[] = [];
  if (!sandbox.network) argv.push("--network", "none");
  argv.push("--cap-drop", "all", "--security-opt", "no-new-privileges");
  if (sandbox.memory !== null) argv.push("--memory", sandbox.memory);
  if (sandbox.pids !== null) argv.push("--pids-limit", String(sandbox.pids));
  return argv;
}

export function sorted(record?: Record<string, string>): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0);
}

export async function mustSucceed(
  runner: ProcessRunner,
  cmd: string[],
  what: string,
): Promise<RunResult> {
  const res = await runner.run({ cmd });
  if (res.code !== 0) throw new ProcessError(cmd, res, { what });
  return res;
}

/** Both `docker image inspect` and `podman image inspect` print a JSON array. */
export function parseImageInspect(stdout: string): ImageInfo | null {
  // deno-lint-ignore no-explicit-any
  let data: any;
  try {
    data = JSON.parse(stdout);
  } catch {
    throw new VenvoyError("could not read the engine's image inspect output as JSON");
  }
  const img = Array.isArray(data) ? data[0] : data;
  if (!img) return null;
  const rawId: string = img.Id ?? img.ID ?? "";
  return {
    id: rawId.startsWith("sha256:") ? rawId : `sha256:${rawId}`,
    digests: [...(img.RepoDigests ?? [])].sort(),
    labels: { ...(img.Config?.Labels ?? img.Labels ?? {}) },
    architecture: img.Architecture ?? "",
    os: img.Os ?? "",
    size: typeof img.Size === "number" ? img.Size : null,
    created: img.Created ?? null,
  };
}

/** "Loaded image: ref" / "Loaded image(s): ref" / "Loaded image ID: sha256:…". */
export function parseLoaded(output: string): string | null {
  const m = output.match(/Loaded image(?:\(s\))?(?: ID)?:\s*(\S+)/);
  return m ? m[1].split(",")[0] : null;
}

/** docker prints one JSON object per line; podman prints one JSON array. */
export function parseContainerList(stdout: string): ContainerInfo[] {
  const text = stdout.trim();
  if (!text) return [];
  // deno-lint-ignore no-explicit-any
  let rows: any[];
  if (text.startsWith("[")) rows = JSON.parse(text);
  else rows = text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  return rows.map((r) => ({
    id: String(r.Id ?? r.ID ?? ""),
    name: Array.isArray(r.Names) ? String(r.Names[0] ?? "") : String(r.Names ?? ""),
    image: String(r.Image ?? ""),
    status: String(r.State ?? r.Status ?? ""),
    labels: typeof r.Labels === "string" ? parseLabelString(r.Labels) : { ...(r.Labels ?? {}) },
  }));
}

/**
 * docker prints one JSON object per line and per tag, without labels ("<none>" for an
 * untagged image); podman prints one JSON array, one entry per image with all its names.
 * Rows of one image merge; the labels filtered on are known to be there.
 */
export function parseImageList(
  stdout: string,
  filtered: Record<string, string> = {},
): ImageSummary[] {
  const text = stdout.trim();
  if (!text) return [];
  // deno-lint-ignore no-explicit-any
  let rows: any[];
  try {
    rows = text.startsWith("[")
      ? JSON.parse(text)
      : text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  } catch {
    throw new VenvoyError("could not read the engine's image list as JSON");
  }
  const byId = new Map<string, ImageSummary>();
  for (const r of rows) {
    const raw = String(r.Id ?? r.ID ?? "");
    const id = raw.startsWith("sha256:") ? raw : `sha256:${raw}`;
    const refs: string[] = Array.isArray(r.Names)
      ? r.Names.map(String)
      : r.Repository && r.Repository !== "<none>" && r.Tag && r.Tag !== "<none>"
      ? [`${r.Repository}:${r.Tag}`]
      : [];
    const labels = typeof r.Labels === "string"
      ? parseLabelString(r.Labels)
      : { ...(r.Labels ?? {}) };
    const seen = byId.get(id);
    if (seen) {
      for (const ref of refs) if (!seen.refs.includes(ref)) seen.refs.push(ref);
      Object.assign(seen.labels, labels);
      continue;
    }
    byId.set(id, {
      id,
      refs,
      labels: { ...filtered, ...labels },
      size: typeof r.Size === "number" ? r.Size : null,
    });
  }
  return [...byId.values()];
}

function parseLabelString(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(",")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}
