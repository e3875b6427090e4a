/**
 * Opening Cursor or VS Code attached to an environment: a devcontainer.json generated in
 * the environment folder (never in the user's project or editor settings) and the
 * editor's dev-container URI. A missing editor falls back to a shell.
 */
import { join } from "../util/path.ts";
import { PERSIST, PERSIST_DIR } from "../recipe/plan.ts";
import type { ProcessRunner } from "../process/mod.ts";
import type { ContainerRuntime, Mount } from "../runtime/mod.ts";
import type { DockerRuntime } from "../runtime/docker.ts";
import { csvFields } from "../runtime/oci.ts";
import { UsageError } from "../ui/errors.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { editorFor, readGlobalConfig } from "../env/global.ts";
import type { StatePaths } from "../env/paths.ts";
import type { LoadedEnv } from "../env/store.ts";

export interface EditorContext {
  runner: ProcessRunner;
  paths: StatePaths;
  cwd: string;
  note: (msg: string) => void;
}

export interface EditorSession {
  runtime: ContainerRuntime;
  image: string;
  home: string | null;
  extraMounts: Mount[];
  extraEnv: [string, string][];
  /** `run --read-only`: the editor's container gets persist/ read-only too. */
  readOnly?: boolean;
  /** `run --gpus`: the runtime's GPU flags join the container's runArgs. */
  gpus?: boolean;
  /** The host user (tests); this process's uid otherwise. */
  uid?: number | null;
}

/**
 * Whether the editor's container must run as root for its files to be the host user's: the
 * user is root (rootful podman, Docker Engine as root), or the docker CLI talks to an
 * engine in this user's namespace, whose root is the user (DockerRuntime.userArgs). The
 * devcontainers CLI would otherwise run the image's user: with podman it adds
 * --userns=keep-id, which rootful podman refuses ("keep-id is only supported in rootless
 * mode"); elsewhere that user cannot write a root-owned project. Anywhere else the image's
 * user stays, and updateRemoteUserUID gives it the host uid (rootless podman: with the
 * CLI's keep-id, the host user itself).
 */
function containerIsRoot(s: EditorSession): boolean {
  const uid = s.uid === undefined ? (Deno.uid?.() ?? null) : s.uid;
  return uid === 0 || (s.runtime.name === "docker" && (s.runtime as DockerRuntime).rootless);
}

/**
 * One `mounts` entry: the editor hands it to `<engine> run --mount`, which parses it as
 * CSV, so it is quoted exactly as the runtime adapters quote --mount (a path with a comma
 * or a quote stays one field). A newline cannot be carried through and is refused.
 */
export function devcontainerMount(m: Mount): string {
  for (const p of [m.source, m.target]) {
    if (/[\r\n]/.test(p)) {
      throw new UsageError(`a mount path contains a line break: ${JSON.stringify(p)}`, {
        hint: "rename the folder; an editor mount cannot carry a line break",
      });
    }
  }
  const fields = [`source=${m.source}`, `target=${m.target}`, "type=bind"];
  if (m.readOnly) fields.push("readonly");
  return csvFields(fields);
}

export function devcontainerJson(env: LoadedEnv, s: EditorSession): Record<string, unknown> {
  const mount = devcontainerMount;
  const mounts = [
    mount({
      source: join(env.dir, PERSIST_DIR),
      target: PERSIST,
      ...(s.readOnly ? { readOnly: true } : {}),
    }),
    ...(s.home ? [mount({ source: s.home, target: s.home })] : []),
    ...s.extraMounts.map(mount),
  ];
  const containerEnv: Record<string, string> = {
    VENVOY_ENV: env.name,
    PYTHONNOUSERSITE: "1",
    PIP_CACHE_DIR: `${PERSIST}/cache/pip`,
    UV_CACHE_DIR: `${PERSIST}/cache/uv`,
    ...Object.fromEntries(s.extraEnv),
  };
  return {
    name: `venvoy: ${env.name}`,
    image: s.image,
    workspaceFolder: "/workspace",
    workspaceMount: "source=${localWorkspaceFolder},target=/workspace,type=bind",
    mounts,
    containerEnv,
    runArgs: [
      "--label",
      "org.venvoy.managed=true",
      "--label",
      `org.venvoy.env=${env.name}`,
      ...(s.gpus ? s.runtime.gpuArgs() : []),
    ],
    postStartCommand: "/opt/venvoy/bin/venvoy-entry true",
    ...(containerIsRoot(s)
      ? { containerUser: "root", remoteUser: "root", updateRemoteUserUID: false }
      : { updateRemoteUserUID: true }),
    customizations: {
      vscode: {
        settings: { "python.defaultInterpreterPath": `${PERSIST}/python/bin/python` },
      },
    },
  };
}

/** vscode-remote://dev-container+<hex of {hostPath, configFile}>/workspace */
export function attachUri(hostPath: string, configFile: string): string {
  const payload = JSON.stringify({
    hostPath,
    configFile: { $mid: 1, path: configFile, scheme: "file" },
  });
  const hex = Array.from(new TextEncoder().encode(payload))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `vscode-remote://dev-container+${hex}/workspace`;
}

/** true when the editor was opened; false means "start a shell instead". */
export async function launchEditor(
  ctx: EditorContext,
  env: LoadedEnv,
  session: EditorSession,
): Promise<boolean> {
  const editor = editorFor(await readGlobalConfig(ctx.paths), env.name);
  if (editor === "none") return false;
  if (session.runtime.produces !== "image") {
    ctx.note(
      `${editor} attaches to Docker/Podman containers, not ${session.runtime.name}; starting a shell`,
    );
    return false;
  }
  const binary = ctx.runner.which(editor);
  if (!binary) {
    ctx.note(
      `${editor} is not on PATH; starting a shell instead (venvoy configure --editor none to stop trying)`,
    );
    return false;
  }
  const file = join(env.dir, ".devcontainer", "devcontainer.json");
  await writeFileAtomic(file, JSON.stringify(devcontainerJson(env, session), null, 2) + "\n");
  const res = await ctx.runner.run({
    cmd: [binary, "--folder-uri", attachUri(ctx.cwd, file)],
    stdout: "inherit",
    stderr: "inherit",
  });
  if (res.code !== 0) {
    ctx.note(`${editor} exited with ${res.code}; starting a shell instead`);
    return false;
  }
  ctx.note(`opened ${editor} on ${ctx.cwd}, attached to '${env.name}' (config: ${file})`);
  return true;
}
