/**
 * `venvoy export --format dockerfile|tarball`, and importing a tarball.
 *
 * The tarball is a standard .tar.gz that builds the environment with plain docker or
 * podman and networking disabled:
 *
 *   Dockerfile          standalone (src/recipe/standalone.ts), offline: vendor/ + the lock
 *   requirements.lock   every Python package with its sha256 (venvoy freeze)
 *   vendor/             the wheels the lock names, and R sources in vendor/R
 *   environment.yml     the latest snapshot (and renv.lock for R)
 *   env/                config.yaml, requirements*.txt / packages.txt, base-packages.json
 *   README.md           what this is and how to build it
 *   manifest.json       format venvoy-tarball, with the sha256 of every other member
 *
 * `venvoy import` verifies it (every member against the manifest), recreates the
 * environment folder from env/ + vendor/ + the lock, and rebuilds it offline.
 */
import { join } from "node:path";
import { parseDocument } from "yaml";
import { LOCK_FILE } from "../recipe/plan.ts";
import { standaloneDockerfile, type StandaloneSpec } from "../recipe/standalone.ts";
import { readBasePackages } from "../env/capture.ts";
import { validateName } from "../util/names.ts";
import type { StatePaths } from "../env/paths.ts";
import type { LoadedEnv } from "../env/store.ts";
import type { ProcessRunner } from "../process/mod.ts";
import { VenvoyError } from "../ui/errors.ts";
import { parseDistFilename } from "../snapshot/freeze.ts";
import { directPackages } from "../snapshot/direct_url.ts";
import { sha256File } from "../util/hash.ts";
import { pythonToFreeze, rToFreeze } from "../snapshot/freeze_run.ts";
import type { Pkg } from "../snapshot/model.ts";
import { readPackageState } from "../snapshot/state.ts";
import { parseEnvironmentYml } from "../snapshot/environment_yml.ts";
import { parseRenvLock } from "../snapshot/renv_lock.ts";
import { writeSnapshot } from "../snapshot/store.ts";
import {
  type ImportedEnvironment,
  refuseExistingEnvironment,
  replaceEnvironment,
} from "./import.ts";
import type { VerifiedArchive } from "./reader.ts";
import { FORMAT_VERSION, type Manifest, MANIFEST_NAME } from "./manifest.ts";
import { SBOM_FILE } from "../sbom/cyclonedx.ts";
import { TarGzWriter, writeOutputFile } from "./writer.ts";

/** env/ files copied into a tarball (those that exist). */
export const TARBALL_ENV_FILES = [
  "config.yaml",
  "requirements.txt",
  "requirements-dev.txt",
  "packages.txt",
  "environment.yml",
  "base-packages.json",
];

async function listedR(envDir: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(join(envDir, "packages.txt"))).split("\n")
      .map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean);
  } catch {
    return [];
  }
}

/** The standalone spec of an environment's current state (base-packages.json + persist/). */
export async function standaloneSpecFor(
  env: LoadedEnv,
  options: { offline: boolean; venvoyVersion: string; python?: Pkg[]; now?: Date },
): Promise<StandaloneSpec> {
  const reading = await readPackageState(env.dir);
  const base = await readBasePackages(env.dir);
  const c = env.config;
  const baseConda = new Map((base?.conda ?? []).map((p) => [p.name, p.version]));
  return {
    name: env.name,
    runtime: c.runtime,
    version: c.runtime === "r" ? c.r_version : c.python_version,
    baseImage: c.base_image,
    basePinned: c.base_image_pinned || c.base_image,
    venvoyVersion: options.venvoyVersion,
    python: options.python ??
      pythonToFreeze(reading.state.python, c.dev_packages, true).pkgs,
    r: rToFreeze(
      reading.state.r,
      (base?.r ?? []) as Pkg[],
      c.runtime === "r" ? await listedR(env.dir) : [],
    ),
    conda: reading.state.conda.filter((p) => baseConda.get(p.name) !== p.version),
    channels: reading.channels,
    offline: options.offline,
    created: (options.now ?? new Date()).toISOString(),
    asOf: c.as_of ?? null,
  };
}

/** `--format dockerfile`: the text (the export command writes it atomically). */
export async function exportDockerfile(
  env: LoadedEnv,
  options: { venvoyVersion: string; now?: Date },
): Promise<string> {
  return standaloneDockerfile(await standaloneSpecFor(env, { ...options, offline: false }));
}

/** `name==version` entries of requirements.lock. */
export function lockEntries(text: string): Pkg[] {
  const out: Pkg[] = [];
  for (const m of text.matchAll(/^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)/gm)) {
    out.push({ name: m[1], version: m[2] });
  }
  return out;
}

/** The sha256 hashes of each `name==version` in requirements.lock. */
export function lockHashes(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = "";
  for (const line of text.split("\n")) {
    const entry = /^([A-Za-z0-9][A-Za-z0-9._-]*==\S+)/.exec(line);
    if (entry) {
      current = entry[1];
      out.set(current, []);
    }
    for (const m of line.matchAll(/--hash=sha256:([0-9a-f]{64})/g)) out.get(current)?.push(m[1]);
  }
  return out;
}

/**
 * Is requirements.lock current? It must name exactly the packages a freeze would vendor
 * now (dev packages optional), and each must have its wheel in vendor/. An editable
 * project changes without changing its version, so its wheel is always built again.
 */
export async function lockIsCurrent(env: LoadedEnv): Promise<boolean> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(env.dir, LOCK_FILE));
  } catch {
    return false;
  }
  const locked = new Map(lockEntries(text).map((p) => [p.name, p.version]));
  const reading = await readPackageState(env.dir);
  const { pkgs, devSkipped } = pythonToFreeze(reading.state.python, env.config.dev_packages, false);
  if (pkgs.some((p) => locked.get(p.name) !== p.version)) return false;
  const expected = new Set([...pkgs, ...devSkipped].map((p) => `${p.name}==${p.version}`));
  if ([...locked].some(([n, v]) => !expected.has(`${n}==${v}`))) return false;
  const wheels = await vendorWheels(join(env.dir, "vendor"), lockEntries(text));
  if (wheels.missing.length) return false;
  // Every wheel in vendor/ for a locked package must have a hash the lock accepts.
  const hashes = lockHashes(text);
  for (const f of wheels.files) {
    const d = parseDistFilename(f)!;
    const sha = await sha256File(join(env.dir, "vendor", f));
    if (!hashes.get(`${d.name}==${d.version}`)?.includes(sha)) return false;
  }
  for (const d of (await directPackages(env.dir)).values()) {
    if (d.origin.kind === "dir" && d.origin.editable) return false;
  }
  return true;
}

/** The wheel files in vendor/ for the locked packages. */
async function vendorWheels(
  vendor: string,
  locked: Pkg[],
): Promise<{ files: string[]; missing: Pkg[] }> {
  const files: string[] = [];
  const have = new Set<string>();
  const want = new Set(locked.map((p) => `${p.name}==${p.version}`));
  try {
    for await (const e of Deno.readDir(vendor)) {
      const d = e.isFile ? parseDistFilename(e.name) : null;
      if (d?.kind === "wheel" && want.has(`${d.name}==${d.version}`)) {
        files.push(e.name);
        have.add(`${d.name}==${d.version}`);
      }
    }
  } catch { /* no vendor/ */ }
  return {
    files: files.sort(),
    missing: locked.filter((p) => !have.has(`${p.name}==${p.version}`)),
  };
}

async function filesIn(dir: string, re: RegExp): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isFile && re.test(e.name)) out.push(e.name);
  } catch { /* absent */ }
  return out.sort();
}

export interface TarballOptions {
  /** The .tar.gz to write. */
  output: string;
  force?: boolean;
  venvoyVersion: string;
  /** `<VENVOY_PROJECTS>/<name>`: environment.yml and renv.lock come from here. */
  projectDir: string;
  engine: string;
  /** Runs `venvoy freeze` when the lock is missing or stale. */
  freeze: () => Promise<void>;
  /** sbom.cdx.json's text (the environment's image asked for its OS packages); none: left out. */
  sbom?: () => Promise<string>;
  onProgress?: (bytes: number) => void;
  now?: Date;
}

export interface TarballResult {
  path: string;
  size: number;
  sha256: string;
  manifest: Manifest;
  froze: boolean;
}

function readme(name: string): string {
  return `# venvoy tarball: ${name}

This folder rebuilds the environment '${name}' with plain Docker or Podman, with no
network and without venvoy:

    podman build --network none -t ${name} .
    docker build --network none -t ${name} .

- \`Dockerfile\` starts from the pinned base image (see its header; override with
  \`--build-arg BASE=IMAGE\`) and installs every Python package from \`vendor/\`, each checked
  against its sha256 in \`requirements.lock\` (R source packages from \`vendor/R\`).
- \`environment.yml\` (and \`renv.lock\` for R) list the exact package versions.
- \`env/\` is venvoy's own record of the environment (config.yaml, requirement lists).
- \`sbom.cdx.json\` is its CycloneDX bill of materials (Python and R packages, the base's OS
  packages).
- \`manifest.json\` has the sha256 of every file; \`venvoy import THIS.tar.gz\` checks them
  all, then recreates the environment and rebuilds it offline.
`;
}

export async function exportTarball(env: LoadedEnv, o: TarballOptions): Promise<TarballResult> {
  if (env.config.package_manager === "conda") {
    throw new VenvoyError(
      `'${env.name}' is a conda environment; tarballs hold pip and R packages`,
      {
        hint: "use --format archive, which holds the whole image",
      },
    );
  }
  let froze = false;
  if (!(await lockIsCurrent(env))) {
    await o.freeze();
    froze = true;
  }
  const lockText = await Deno.readTextFile(join(env.dir, LOCK_FILE));
  const locked = lockEntries(lockText);
  const vendor = join(env.dir, "vendor");
  const wheels = await vendorWheels(vendor, locked);
  if (wheels.missing.length) {
    throw new VenvoyError(
      `vendor/ lacks wheels for ${wheels.missing.map((p) => `${p.name}==${p.version}`).join(", ")}`,
      { hint: `run venvoy freeze --name ${env.name} again` },
    );
  }
  const spec = await standaloneSpecFor(env, {
    offline: true,
    venvoyVersion: o.venvoyVersion,
    python: locked,
    now: o.now,
  });
  const writer = await TarGzWriter.create(o.output, {
    force: o.force,
    onProgress: o.onProgress,
    mtime: Math.floor((o.now ?? new Date()).getTime() / 1000),
  });
  try {
    await writer.addBytes("Dockerfile", standaloneDockerfile(spec));
    await writer.addBytes("README.md", readme(env.name));
    await writer.addBytes(LOCK_FILE, lockText);
    if (o.sbom) await writer.addBytes(SBOM_FILE, await o.sbom());
    for (const f of wheels.files) await writer.addFile(`vendor/${f}`, join(vendor, f));
    for (const f of await filesIn(join(vendor, "R"), /\.tar\.gz$/)) {
      await writer.addFile(`vendor/R/${f}`, join(vendor, "R", f));
    }
    for (const f of ["environment.yml", "renv.lock"]) {
      const p = join(o.projectDir, f);
      if (await Deno.stat(p).then((s) => s.isFile, () => false)) await writer.addFile(f, p);
    }
    for (const f of TARBALL_ENV_FILES) {
      const p = join(env.dir, f);
      if (await Deno.stat(p).then((s) => s.isFile, () => false)) {
        await writer.addFile(`env/${f}`, p, { mode: 0o644 });
      }
    }
    const c = env.config;
    const manifest: Manifest = {
      format: "venvoy-tarball",
      format_version: FORMAT_VERSION,
      venvoy_version: o.venvoyVersion,
      created: (o.now ?? new Date()).toISOString(),
      engine: o.engine,
      environment: {
        name: env.name,
        runtime: c.runtime,
        python_version: c.python_version,
        r_version: c.r_version,
        package_manager: c.package_manager,
      },
      host: c.host,
      image: {
        tag: null,
        id: c.image_id,
        architecture: c.host.architecture || null,
        os: "linux",
        base: c.base_image_pinned || null,
        docker_archive: null,
        sif: null,
      },
      packages: {
        python: locked.map((p) => ({ ...p })),
        conda: [],
        r: spec.r.map((p) => ({ ...p })),
        os: ((await readBasePackages(env.dir))?.os ?? []).map((p) => ({ ...p })),
      },
      members: writer.members,
    };
    await writer.addBytes(MANIFEST_NAME, JSON.stringify(manifest, null, 2) + "\n");
    const done = await writer.finish();
    return { ...done, manifest, froze };
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

export interface TarballImportOptions {
  environmentsDir: string;
  projectsDir: string;
  /** The new environment's name (default: the manifest's). */
  name?: string;
  force?: boolean;
  /** Engine to record for the rebuild (--engine); empty: detect one. */
  engine?: string | null;
  /** Rebuilds the recreated environment offline (init --force --offline). */
  rebuild: (name: string) => Promise<{ image: string; imageId: string | null }>;
}

async function copyIfFile(from: string, to: string): Promise<boolean> {
  if (!(await Deno.stat(from).then((s) => s.isFile, () => false))) return false;
  await Deno.copyFile(from, to);
  return true;
}

/**
 * Recreates an environment from a verified tarball (its members all checked against the
 * manifest) and rebuilds it offline from its vendor/. A new environment that fails to
 * build leaves nothing behind; an existing one (--force) is kept aside until the rebuild
 * succeeds, then keeps its persist/ and history.
 */
export async function importTarball(
  verified: VerifiedArchive,
  o: TarballImportOptions,
): Promise<ImportedEnvironment> {
  const { manifest } = verified;
  const name = validateName(o.name ?? manifest.environment.name);
  const envDir = join(o.environmentsDir, name);
  await refuseExistingEnvironment(envDir, name, o.force);
  const src = verified.dir;
  if (!(await Deno.stat(join(src, "env", "config.yaml")).then(() => true, () => false))) {
    throw new VenvoyError("the tarball has no env/config.yaml", {
      hint: "was it written by venvoy export --format tarball?",
    });
  }
  // Built in place of the old folder, which is kept aside (with its persist/) until the
  // rebuild succeeds: a failed import, forced or not, changes nothing.
  return await replaceEnvironment(envDir, async () => {
    await Deno.mkdir(join(envDir, "vendor", "R"), { recursive: true });
    for (const f of TARBALL_ENV_FILES) await copyIfFile(join(src, "env", f), join(envDir, f));
    await copyIfFile(join(src, LOCK_FILE), join(envDir, LOCK_FILE));
    for (const sub of ["vendor", join("vendor", "R")]) {
      for (const f of await filesIn(join(src, sub), /\.(whl|tar\.gz)$/)) {
        await Deno.copyFile(join(src, sub, f), join(envDir, sub, f));
      }
    }
    const cfgPath = join(envDir, "config.yaml");
    const doc = parseDocument(await Deno.readTextFile(cfgPath));
    doc.set("name", name);
    doc.set("engine", o.engine ?? "");
    doc.set("image", "");
    doc.set("image_id", null);
    await Deno.writeTextFile(cfgPath, doc.toString());

    const built = await o.rebuild(name);
    const snapshots: string[] = [];
    const projectDir = join(o.projectsDir, name);
    const yml = join(src, "environment.yml");
    if (await Deno.stat(yml).then(() => true, () => false)) {
      const snap = parseEnvironmentYml(await Deno.readTextFile(yml), yml);
      snap.meta.name = name;
      if (await Deno.stat(join(src, "renv.lock")).then(() => true, () => false)) {
        const lock = parseRenvLock(
          await Deno.readTextFile(join(src, "renv.lock")),
          join(src, "renv.lock"),
        );
        snap.state.r = lock.packages;
      }
      const w = await writeSnapshot(projectDir, snap);
      if (w.written) snapshots.push(w.entry.yml);
    }
    return { name, envDir, image: built.image, imageId: built.imageId, manifest, snapshots };
  });
}

export interface StandaloneExportContext {
  runner: ProcessRunner;
  paths: StatePaths;
  engine: string | null;
  note: (msg: string) => void;
  venvoyVersion: string;
  now?: Date;
}

/**
 * The export command's branch for `--format dockerfile|tarball`: writes the file (a
 * temporary name, renamed when complete) and returns what was written.
 */
export async function exportStandalone(
  ctx: StandaloneExportContext,
  env: LoadedEnv,
  o: { format: "dockerfile" | "tarball"; output: string; projectDir: string; force?: boolean },
): Promise<{ path: string; size: number; sha256: string }> {
  if (o.format === "dockerfile") {
    const text = await exportDockerfile(env, { venvoyVersion: ctx.venvoyVersion, now: ctx.now });
    return await writeOutputFile(o.output, text, o.force);
  }
  const res = await exportTarball(env, {
    output: o.output,
    force: o.force,
    venvoyVersion: ctx.venvoyVersion,
    projectDir: o.projectDir,
    engine: env.config.engine,
    now: ctx.now,
    sbom: async () => {
      const { runtimeFor, imageFor } = await import("../session/mod.ts");
      const { hostUser } = await import("../env/host.ts");
      const { exportSbom } = await import("../sbom/mod.ts");
      const runtime = await runtimeFor(ctx, env);
      return await exportSbom({
        runtime,
        envDir: env.dir,
        config: env.config,
        image: imageFor(runtime, env),
        venvoyVersion: ctx.venvoyVersion,
        user: hostUser(),
        onWarning: (m) => ctx.note(`warning: ${m}`),
      });
    },
    freeze: async () => {
      ctx.note(`'${env.name}' is not frozen (or changed since): running venvoy freeze first`);
      const { freezeEnv } = await import("../snapshot/freeze_run.ts");
      await freezeEnv(ctx, { name: env.name });
    },
  });
  if (res.froze) ctx.note(`froze '${env.name}' (requirements.lock, vendor/)`);
  return { path: res.path, size: res.size, sha256: res.sha256 };
}

/**
 * The import command's branch for a verified tarball: recreate the environment and
 * rebuild it with `init --force --offline` on the engine in use (networking disabled).
 */
export async function importTarballOffline(
  ctx: StandaloneExportContext,
  verified: VerifiedArchive,
  o: { name?: string; force?: boolean; engine: string },
): Promise<ImportedEnvironment> {
  const { initEnv } = await import("../env/init.ts");
  const { captureEnvSnapshot } = await import("../snapshot/env_hooks.ts");
  return await importTarball(verified, {
    environmentsDir: ctx.paths.environments,
    projectsDir: ctx.paths.projects,
    name: o.name,
    force: o.force,
    engine: o.engine,
    rebuild: async (name) => {
      const res = await initEnv({
        runner: ctx.runner,
        paths: ctx.paths,
        engine: o.engine,
        venvoyVersion: ctx.venvoyVersion,
        note: ctx.note,
        recordSnapshot: captureEnvSnapshot,
      }, { name, force: true, offline: true });
      return { image: res.config.image, imageId: res.config.image_id };
    },
  });
}
