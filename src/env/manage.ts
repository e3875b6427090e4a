/** list, delete and package-managers: reading and removing environments. */
import { join } from "node:path";
import type { ProcessRunner } from "../process/mod.ts";
import {
  type ContainerInfo,
  type ContainerRuntime,
  createRuntime,
  type ImageInfo,
  isEngineName,
} from "../runtime/mod.ts";
import { OWNER_LABEL } from "../runtime/types.ts";
import { ownerKey } from "./owner.ts";
import { formatBytes } from "../ui/bytes.ts";
import { VenvoyError } from "../ui/errors.ts";
import { readBasePackages } from "./capture.ts";
import { imageTag } from "../util/names.ts";
import type { StatePaths } from "./paths.ts";
import { envDir, listEnvNames, type LoadedEnv, loadEnv } from "./store.ts";

export interface EnvRow {
  name: string;
  runtime: string;
  version: string;
  engine: string;
  built: boolean | null;
  size: number | null;
  created: string;
  last_snapshot: string | null;
  running: boolean | null;
  path: string;
}

/** An adapter for a recorded engine, or null when it is not installed here (no probing). */
export function quickRuntime(runner: ProcessRunner, engine: string): ContainerRuntime | null {
  if (!isEngineName(engine)) return null;
  const path = runner.which(engine);
  return path ? createRuntime(engine, runner, { path }) : null;
}

async function lastSnapshot(paths: StatePaths, name: string): Promise<string | null> {
  try {
    return (await Deno.readTextFile(join(paths.projects, name, ".last_updated"))).trim() || null;
  } catch {
    return null;
  }
}

export async function listEnvs(runner: ProcessRunner, paths: StatePaths): Promise<EnvRow[]> {
  const names = await listEnvNames(paths);
  const running = new Map<string, ContainerInfo[] | null>();
  const rows: EnvRow[] = [];
  for (const name of names) {
    const env = await loadEnv(paths, name);
    const c = env.config;
    const rt = quickRuntime(runner, c.engine);
    let built: boolean | null = null;
    let size: number | null = null;
    if (rt) {
      const info = await rt.inspect(c.image).catch(() => null);
      built = info !== null;
      size = info?.size ?? null;
      if (!running.has(c.engine)) {
        running.set(
          c.engine,
          rt.produces === "image"
            ? await rt.listContainers({ "org.venvoy.managed": "true" }).catch(() => null)
            : null,
        );
      }
    }
    const containers = running.get(c.engine);
    rows.push({
      name,
      runtime: c.runtime,
      version: (c.runtime === "python" ? c.python_version : c.r_version) ?? "",
      engine: c.engine,
      built,
      size,
      created: c.created,
      last_snapshot: await lastSnapshot(paths, name),
      running: containers
        ? containers.some((x) =>
          x.labels["org.venvoy.env"] === name && /running|up/i.test(x.status)
        )
        : null,
      path: env.dir,
    });
  }
  return rows;
}

export function listTable(rows: EnvRow[]): string[][] {
  const yn = (b: boolean | null) => (b === null ? "?" : b ? "yes" : "no");
  return [
    ["NAME", "VERSION", "ENGINE", "BUILT", "SIZE", "CREATED", "LAST SNAPSHOT", "RUNNING"],
    ...rows.map((r) => [
      r.name,
      `${r.runtime === "python" ? "Python" : "R"} ${r.version}`,
      r.engine,
      yn(r.built),
      r.size === null ? "-" : formatBytes(r.size),
      r.created.slice(0, 16).replace("T", " "),
      r.last_snapshot ? r.last_snapshot.slice(0, 16).replace("T", " ") : "-",
      yn(r.running),
    ]),
  ];
}

/**
 * Whether the image `info` is this environment's: it carries this VENVOY_HOME's owner key,
 * or (built before the key existed) it has no key and is the image ID config.yaml recorded.
 */
export function isOwnImage(
  info: ImageInfo,
  options: { key: string; imageId: string | null },
): boolean {
  const owner = info.labels[OWNER_LABEL];
  if (owner) return owner === options.key;
  const norm = (x: string) => x.replace(/^sha256:/, "");
  return !!options.imageId && norm(info.id) === norm(options.imageId);
}

/**
 * Removes containers, the image and the folder; the snapshot history only with purge.
 * Only this environment's own image goes: a name that now points at another user's (or
 * another VENVOY_HOME's) image on a shared daemon is left alone, with a note.
 */
export async function deleteEnv(
  runner: ProcessRunner,
  paths: StatePaths,
  name: string,
  options: { purge?: boolean },
): Promise<{ removed: string[]; kept: string[] }> {
  const env = await loadEnv(paths, name);
  const removed: string[] = [];
  const kept: string[] = [];
  const key = await ownerKey(paths.venvoyHome);
  const rt = quickRuntime(runner, env.config.engine);
  if (rt && rt.produces === "image") {
    const info = await rt.inspect(env.config.image).catch((e) => {
      throw new VenvoyError(
        `could not look at the image ${env.config.image}: ${(e as Error).message}`,
        { hint: `check that ${rt.binary} works, then run delete again` },
      );
    });
    const mine = info !== null && isOwnImage(info, { key, imageId: env.config.image_id });
    const containers = await rt.listContainers({ "org.venvoy.env": name }).catch(() => []);
    for (const c of containers) {
      const owner = c.labels[OWNER_LABEL];
      if (owner ? owner !== key : !(mine && c.image === env.config.image)) continue;
      await rt.removeContainer(c.id).catch(() => {});
      removed.push(`container ${c.name || c.id}`);
    }
    if (info && !mine) {
      kept.push(
        `image ${env.config.image} (it is not the one this environment built: another user's or another VENVOY_HOME's)`,
      );
    } else if (info) {
      try {
        await rt.remove(env.config.image);
        removed.push(`image ${env.config.image}`);
      } catch (e) {
        throw new VenvoyError(
          `could not remove the image ${env.config.image}: ${(e as Error).message}`,
          {
            hint:
              `remove it by hand (${rt.binary} image rm ${env.config.image}), then run delete again`,
          },
        );
      }
    }
  }
  if (rt && rt.produces === "sif") {
    // The OCI image a SIF was converted from, when podman or docker built it here.
    for (const helper of ["podman", "docker"]) {
      const h = quickRuntime(runner, helper);
      const info = h ? await h.inspect(imageTag(name)).catch(() => null) : null;
      if (h && info && info.labels[OWNER_LABEL] === key) {
        await h.remove(imageTag(name)).catch(() => {});
        removed.push(`image ${imageTag(name)}`);
        break;
      }
    }
  }
  await Deno.remove(envDir(paths, name), { recursive: true });
  removed.push(`folder ${env.dir}`);
  if (options.purge) {
    await Deno.remove(join(paths.projects, name), { recursive: true }).catch(() => {});
    removed.push(`history ${join(paths.projects, name)}`);
  }
  return { removed, kept };
}

export interface ManagerInfo {
  name: string;
  for: string;
  examples: string[];
  present: boolean | null;
  /** The version in the image, when base-packages.json lists it. */
  version?: string;
}

export async function packageManagers(env: LoadedEnv | null): Promise<ManagerInfo[]> {
  const base = env ? await readBasePackages(env.dir) : null;
  const has = (list: "python" | "r" | "conda", pkg?: string) =>
    base === null
      ? env ? false : null
      : pkg
      ? base[list].some((p) => p.name.toLowerCase() === pkg)
      : base[list].length > 0;
  return [
    {
      name: "pip",
      for: "the standard Python installer: any package on PyPI, wheels in vendor/",
      examples: ["pip install pandas==2.2.3", "pip install -r requirements.txt"],
      present: env ? env.config.runtime === "python" && (has("python", "pip") ?? false) : null,
      ...(base?.python.find((p) => p.name.toLowerCase() === "pip")
        ? { version: base.python.find((p) => p.name.toLowerCase() === "pip")!.version }
        : {}),
    },
    {
      name: "uv",
      for: "a much faster pip for PyPI packages (same requirement syntax)",
      examples: ["uv pip install scikit-learn", "uv pip install -r requirements.txt"],
      present: env ? env.config.runtime === "python" && (has("python", "uv") ?? false) : null,
    },
    {
      name: "mamba",
      for:
        "conda-forge packages with compiled dependencies (GDAL, CUDA builds); micromamba-based environments",
      examples: ["mamba install -c conda-forge gdal"],
      present: env ? env.config.package_manager === "conda" : null,
    },
    {
      name: "R",
      for:
        "CRAN packages (install.packages; rocker bases use a dated CRAN snapshot), pak/remotes for GitHub",
      examples: [
        "Rscript -e 'install.packages(\"data.table\")'",
        "Rscript -e 'remotes::install_github(\"r-lib/cli\")'",
      ],
      present: env ? env.config.runtime === "r" : null,
    },
  ];
}
