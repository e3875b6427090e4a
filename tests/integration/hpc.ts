/**
 * The cluster side of the lab, for the HPC integration tests (hpc_*_test.ts).
 *
 * A "compute node" here is the non-root lab user (tests/lab/setup.sh adds `venvoylab`) with a
 * PATH that holds apptainer, the SLURM clients (tests/lab/setup-slurm.sh keeps them in
 * /opt/venvoy-lab/slurm/bin, off the default PATH), deno and the usual /usr/bin tools, but no
 * podman and no docker: a folder of symlinks built here, since /usr/bin itself has podman.
 * The program is the bundled dist/venvoy, copied into a folder the user can read, and run by
 * its own `#!/usr/bin/env -S deno run` line, as a user would run it. The user gets a HOME of
 * its own (so the boot loader unpacks into the user's own cache folder), and every job
 * output and state folder is owned by the user.
 */
import { join } from "node:path";
import { DenoRunner } from "../../src/process/mod.ts";

export const SLURM_BIN = Deno.env.get("VENVOY_LAB_SLURM_BIN") ?? "/opt/venvoy-lab/slurm/bin";
export const LAB_USER = Deno.env.get("VENVOY_LAB_USER") ?? "venvoylab";
export const SLURM_CLIENTS = [
  "sbatch",
  "srun",
  "salloc",
  "squeue",
  "scancel",
  "scontrol",
  "sinfo",
  "sacct",
];
/** Programs a compute node does not have (matched at the start of the name). */
const ABSENT = /^(podman|docker|buildah|skopeo|nerdctl|dockerd|containerd)/;

const runner = new DenoRunner();
const dec = new TextDecoder();

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  cmd: string[],
  opts: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean } = {},
): Promise<Result> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: opts.clearEnv,
    stdin: "null",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function userIds(): Promise<{ uid: number; gid: number } | null> {
  const u = await run(["id", "-u", LAB_USER]).catch(() => null);
  const g = await run(["id", "-g", LAB_USER]).catch(() => null);
  if (!u || !g || u.code !== 0 || g.code !== 0) return null;
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Why the cluster tests cannot run here, or null. */
async function clusterSkipReason(): Promise<string | null> {
  if (Deno.uid() !== 0) return "not root (the tests switch to the lab user with runuser)";
  if (!(await userIds())) {
    return `no lab user '${LAB_USER}' (run tests/lab/setup.sh as root)`;
  }
  const sinfo = await run([join(SLURM_BIN, "sinfo"), "-h", "-o", "%T"]).catch((e) => ({
    code: -1,
    stdout: "",
    stderr: String(e),
  }));
  if (sinfo.code !== 0) {
    return `no SLURM cluster: ${join(SLURM_BIN, "sinfo")} failed (run tests/lab/setup-slurm.sh): ${
      sinfo.stderr.trim().split("\n")[0]
    }`;
  }
  if (!runner.which("apptainer")) return "apptainer is not installed (VENVOY_LAB_APPTAINER=1)";
  return null;
}

export const clusterSkip = await clusterSkipReason();

const announced = new Set<string>();
/** True (ignore) when the cluster is absent; prints the reason once per group. */
export function ignoreUnlessCluster(group: string, extra: string | null = null): boolean {
  const why = clusterSkip ?? extra;
  if (why && !announced.has(group)) {
    announced.add(group);
    console.error(`SKIP ${group}: ${why}`);
  }
  return why !== null;
}

export interface Cluster {
  /** A root folder of this test run (mode 0755); removed at exit. */
  root: string;
  /** The compute node's tools: apptainer, SLURM clients, deno, no podman/docker (the user's
   * PATH is the program's folder, then this). */
  path: string;
  /** The same without the SLURM clients (a workstation without a scheduler). */
  pathNoScheduler: string;
  /** The bundled venvoy, readable and executable by the user. */
  venvoy: string;
  /** The user's HOME (owned by the user). */
  home: string;
  uid: number;
  gid: number;
  /** A fresh folder owned by the user, under its home. */
  userDir(prefix: string): Promise<string>;
  /** Runs argv as the lab user with a clean environment (env adds to / overrides it). */
  asUser(
    argv: string[],
    opts?: { cwd?: string; env?: Record<string, string>; noScheduler?: boolean },
  ): Promise<Result>;
  /** `venvoy ARGS` as the lab user. */
  venvoyAsUser(
    args: string[],
    opts?: { cwd?: string; env?: Record<string, string>; noScheduler?: boolean },
  ): Promise<Result>;
  /** Writes a file as root and gives it to the user. */
  giveFile(path: string, text: string, mode?: number): Promise<void>;
}

let shared: Cluster | null = null;

async function linkFolder(dir: string, withSlurm: boolean): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const seen = new Set<string>();
  const link = async (target: string, name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    await Deno.symlink(target, join(dir, name));
  };
  if (withSlurm) {
    for (const c of SLURM_CLIENTS) await link(join(SLURM_BIN, c), c);
  }
  await link(Deno.execPath(), "deno");
  for (const src of ["/usr/local/bin", "/usr/bin", "/usr/sbin"]) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(src)];
    } catch {
      continue;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (ABSENT.test(e.name) || SLURM_CLIENTS.includes(e.name)) continue;
      await link(join(src, e.name), e.name);
    }
  }
  await Deno.chmod(dir, 0o755);
}

/** Sets up (once per test file) the curated PATH, the program copy and the user's home. */
export async function cluster(): Promise<Cluster> {
  if (shared) return shared;
  const ids = await userIds();
  if (!ids) throw new Error(`no lab user ${LAB_USER}`);
  const root = await Deno.makeTempDir({ prefix: "venvoy-hpc-" });
  await Deno.chmod(root, 0o755);
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(root, { recursive: true });
    } catch { /* best effort */ }
  });
  const path = join(root, "node-bin");
  const pathNoScheduler = join(root, "nosched-bin");
  await linkFolder(path, true);
  await linkFolder(pathNoScheduler, false);
  const source = new URL("../../dist/venvoy", import.meta.url).pathname;
  try {
    await Deno.stat(source);
  } catch {
    throw new Error("dist/venvoy is missing: run `deno task bundle` (test:integration does)");
  }
  const progDir = join(root, "prog");
  await Deno.mkdir(progDir, { mode: 0o755 });
  await Deno.chmod(progDir, 0o755);
  const venvoy = join(progDir, "venvoy");
  await Deno.copyFile(source, venvoy);
  await Deno.chmod(venvoy, 0o755);
  const home = join(root, "home");
  await Deno.mkdir(home);
  await Deno.chown(home, ids.uid, ids.gid);
  await Deno.chmod(home, 0o755);

  const baseEnv = (noScheduler?: boolean): Record<string, string> => ({
    HOME: home,
    USER: LAB_USER,
    LOGNAME: LAB_USER,
    XDG_CACHE_HOME: join(home, ".cache"),
    PATH: `${progDir}:${noScheduler ? pathNoScheduler : path}`,
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
  });
  const asUser: Cluster["asUser"] = async (argv, opts = {}) => {
    const env = { ...baseEnv(opts.noScheduler), ...opts.env };
    const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return await run(["runuser", "-u", LAB_USER, "--", "env", "-i", ...pairs, ...argv], {
      cwd: opts.cwd ?? home,
    });
  };
  let n = 0;
  shared = {
    root,
    path,
    pathNoScheduler,
    venvoy,
    home,
    uid: ids.uid,
    gid: ids.gid,
    userDir: async (prefix) => {
      const dir = join(home, `${prefix}-${++n}`);
      await Deno.mkdir(dir);
      await Deno.chown(dir, ids.uid, ids.gid);
      return dir;
    },
    asUser,
    venvoyAsUser: (args, opts) => asUser([venvoy, ...args], opts),
    giveFile: async (file, text, mode = 0o644) => {
      await Deno.writeTextFile(file, text);
      await Deno.chmod(file, mode);
      await Deno.chown(file, ids.uid, ids.gid);
    },
  };
  return shared;
}

/** `sbatch --parsable` job id, or the array's base id. */
export function jobId(stdout: string): string {
  const m = /^(\d+)(?:;\S+)?\s*$/m.exec(stdout.trim());
  if (!m) throw new Error(`no job id in sbatch output: ${JSON.stringify(stdout)}`);
  return m[1];
}

/** ExitCode=A:B of each record of `scontrol show job ID` (an array gives one per task). */
export async function scontrolExitCodes(id: string): Promise<string[]> {
  const res = await run([join(SLURM_BIN, "scontrol"), "show", "job", id]);
  if (res.code !== 0) throw new Error(`scontrol show job ${id}: ${res.stderr}`);
  return [...res.stdout.matchAll(/\bExitCode=(\d+:\d+)/g)].map((m) => m[1]);
}
