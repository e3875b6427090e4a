/**
 * `venvoy freeze`, run: every Python package of the environment's current state into
 * vendor/ as a wheel (built inside the environment's image where only an sdist exists, so
 * it matches its platform), requirements.lock with their sha256 hashes, and R source
 * packages into vendor/R where the index has them. Afterwards
 * `venvoy init --force --offline` rebuilds the environment with networking disabled.
 */
import { basename, join } from "node:path";
import freezeDirectScript from "../../templates/support/freeze_direct.py" with { type: "text" };
import { LOCK_FILE, PERSIST } from "../recipe/mod.ts";
import { replaceAtomic, writeFileAtomic } from "../util/atomic.ts";
import { readBasePackages } from "../env/capture.ts";
import { type LoadedEnv, loadEnv, pickEnvName } from "../env/store.ts";
import { printable, VenvoyError } from "../ui/errors.ts";
import { type EnvExec, envExec, type ExecContext } from "./exec.ts";
import { containerPath, type DirectPackage, directPackages } from "./direct_url.ts";
import type { Mount } from "../runtime/mod.ts";
import { sha256File } from "../util/hash.ts";
import {
  freezePackages,
  lockFromVendor,
  parseDistFilename,
  parseUnavailableLines,
  pipWheelArgv,
  rDownloadArgv,
  renderPins,
  VENDOR_MOUNT,
} from "./freeze.ts";
import { normalizePythonName, type Pkg } from "./model.ts";
import { readPackageState } from "./state.ts";

export const PINS_FILE = "pins.txt";

export interface FreezeOptions {
  name?: string;
  /** Also vendor the packages listed in requirements-dev.txt (left out by default). */
  includeDev?: boolean;
}

export interface FreezeResult {
  name: string;
  lock: string;
  python: Pkg[];
  /** Dev packages left out (without --include-dev). */
  devSkipped: Pkg[];
  /** R source packages now in vendor/R, and those the index did not have. */
  r: { saved: Pkg[]; unavailable: string[] };
  vendorBytes: number;
  /** Packages not installed from the index, and how each got its wheel. */
  direct: DirectOutcome[];
}

export interface DirectOutcome {
  name: string;
  version: string;
  /** copied: the recorded local wheel; built: from its origin; reconstructed: from RECORD. */
  how: "copied" | "built" | "reconstructed";
  /** Where it came from (a path or a pip requirement), for the message. */
  from: string;
  /** Why it was reconstructed (its origin is gone, the build failed). */
  why?: string;
}

/** The package name of a requirement line (`pytest>=8 ; python_version>"3"` -> pytest). */
export function requirementName(line: string): string | null {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line.replace(/#.*$/, ""));
  return m && !line.trim().startsWith("-") ? normalizePythonName(m[1]) : null;
}

/**
 * The Python packages to vendor: the current state without pip/setuptools/wheel, and
 * without the dev packages unless includeDev.
 */
export function pythonToFreeze(
  python: Pkg[],
  devPackages: string[],
  includeDev: boolean,
): { pkgs: Pkg[]; devSkipped: Pkg[] } {
  const all = freezePackages(python);
  if (includeDev) return { pkgs: all, devSkipped: [] };
  const dev = new Set(devPackages.map(requirementName).filter((n): n is string => !!n));
  return {
    pkgs: all.filter((p) => !dev.has(p.name)),
    devSkipped: all.filter((p) => dev.has(p.name)),
  };
}

/**
 * The R packages to vendor: repository packages the image did not bring at that version
 * (installed in sessions), plus those packages.txt names (the build installs them).
 */
export function rToFreeze(r: Pkg[], base: Pkg[], listed: string[]): Pkg[] {
  const inBase = new Map(base.map((p) => [p.name, p.version]));
  const want = new Set(listed);
  return r.filter((p) =>
    (p.source ?? "Repository") === "Repository" &&
    (inBase.get(p.name) !== p.version || want.has(p.name))
  );
}

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isFile) n += (await Deno.stat(p)).size;
      else if (e.isDirectory) n += await dirBytes(p);
    }
  } catch { /* absent */ }
  return n;
}

async function listedRPackages(env: LoadedEnv): Promise<string[]> {
  try {
    const text = await Deno.readTextFile(join(env.dir, "packages.txt"));
    return text.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean);
  } catch {
    return [];
  }
}

export async function freezeEnv(ctx: ExecContext, opts: FreezeOptions): Promise<FreezeResult> {
  const name = await pickEnvName(ctx.paths, { flag: opts.name }, ctx.note);
  const env = await loadEnv(ctx.paths, name);
  const reading = await readPackageState(env.dir);
  if (reading.unsafe.length) {
    throw new VenvoyError(
      `'${name}' has package metadata that is not a regular file: ${
        reading.unsafe.map((u) => printable(u)).join(", ")
      }; pip in the container would read it (a FIFO would stop it for ever)`,
      { hint: `a session made it: remove it (under ${printable(env.dir)}), then freeze again` },
    );
  }
  if (!reading.hasBase) {
    throw new VenvoyError(`'${name}' has no base-packages.json: its image was never listed`, {
      hint: `rebuild it: venvoy init --name ${name} --force`,
    });
  }
  const { pkgs, devSkipped } = pythonToFreeze(
    reading.state.python,
    env.config.dev_packages,
    opts.includeDev ?? false,
  );
  const vendor = join(env.dir, "vendor");
  await Deno.mkdir(vendor, { recursive: true });
  const mount = [{ source: vendor, target: VENDOR_MOUNT }];
  const exec = await envExec(ctx, env);

  // Installed from a file, a folder, a VCS or a URL (PEP 610): not on the index at all.
  const found = await directPackages(env.dir);
  const direct = pkgs.flatMap((p) => {
    const d = found.get(p.name);
    return d && d.version === p.version ? [d] : [];
  });
  const fromIndex = pkgs.filter((p) => !direct.some((d) => d.name === p.name));
  if (fromIndex.length) {
    await writeFileAtomic(join(vendor, PINS_FILE), renderPins(fromIndex));
    ctx.note(`Downloading ${fromIndex.length} Python package(s) into ${vendor} (wheels) ...`);
    const res = await exec.run(pipWheelArgv({ requirements: `${VENDOR_MOUNT}/${PINS_FILE}` }), {
      extraMounts: mount,
    });
    if (res.code !== 0) {
      throw new VenvoyError(
        `pip wheel failed in '${name}' (exit ${res.code}); see its output above`,
        {
          hint:
            "a version that is gone from the index cannot be frozen; check the network and retry",
        },
      );
    }
  }
  const directDone = direct.length ? await freezeDirect(ctx, env, exec, direct) : [];
  const lock = await lockFromVendor(vendor, pkgs);
  if (lock.missing.length) {
    throw new VenvoyError(
      `no wheel in ${vendor} for: ${lock.missing.map((p) => `${p.name}==${p.version}`).join(", ")}`,
      { hint: "see pip's output above; then run venvoy freeze again" },
    );
  }
  const lockPath = join(env.dir, LOCK_FILE);
  await writeFileAtomic(lockPath, lock.text);

  // R: sources where the index has them; a package it does not have is reported, not fatal.
  const base = await readBasePackages(env.dir);
  const rPkgs = rToFreeze(
    reading.state.r,
    (base?.r ?? []) as Pkg[],
    env.config.runtime === "r" ? await listedRPackages(env) : [],
  );
  const r: FreezeResult["r"] = { saved: [], unavailable: [] };
  if (rPkgs.length) {
    ctx.note(`Downloading ${rPkgs.length} R source package(s) into ${join(vendor, "R")} ...`);
    const res = await exec.run(rDownloadArgv(rPkgs), { capture: true, extraMounts: mount });
    r.unavailable = res.code === 0
      ? parseUnavailableLines(res.output)
      : rPkgs.map((p) => `${p.name}==${p.version}`);
    r.saved = rPkgs.filter((p) => !r.unavailable.includes(`${p.name}==${p.version}`));
  }
  return {
    name,
    lock: lockPath,
    python: pkgs,
    devSkipped,
    r,
    vendorBytes: await dirBytes(vendor),
    direct: directDone,
  };
}

/** Where freeze_direct.py, its plan and its output are mounted. */
export const DIRECT_MOUNT = "/opt/venvoy/freeze";
/** Local origins (files, project folders) are mounted read-only under here. */
export const DIRECT_SRC_MOUNT = "/opt/venvoy/freeze-src";

/** One entry of the plan freeze_direct.py reads (snake_case JSON). */
export interface DirectPlanEntry {
  name: string;
  version: string;
  dist_info: string;
  editable: boolean;
  src?: string;
  subdirectory?: string;
  url?: string;
  /** Why there is nothing to build from (then: rebuilt from the installed files). */
  gone?: string;
}

async function statOrNull(path: string): Promise<Deno.FileInfo | null> {
  return await Deno.stat(path).catch(() => null);
}

/** Removes vendor/'s wheels of name==version (a new one replaces them). */
async function dropWheels(vendor: string, p: Pkg, keep?: string): Promise<void> {
  for await (const e of Deno.readDir(vendor)) {
    const d = e.isFile ? parseDistFilename(e.name) : null;
    if (d?.kind === "wheel" && d.name === p.name && d.version === p.version && e.name !== keep) {
      await Deno.remove(join(vendor, e.name));
    }
  }
}

/** Copies (or moves) a wheel into vendor/ under a temporary name, then renames it. */
async function intoVendor(vendor: string, from: string, p: Pkg, move: boolean): Promise<void> {
  const name = basename(from);
  await replaceAtomic(join(vendor, name), async (tmp) => {
    if (move) await Deno.rename(from, tmp);
    else await Deno.copyFile(from, tmp);
    await dropWheels(vendor, p, name);
  }, { mkdir: false });
}

/**
 * Host side of a direct package: the plan entry for freeze_direct.py, or null when the
 * recorded local wheel was copied as it is. Paths are looked up on the host at the path
 * pip recorded in the session (the home folder is mounted at its own path).
 */
async function planDirect(
  env: LoadedEnv,
  d: DirectPackage,
  i: number,
  mounts: Mount[],
): Promise<{ entry: DirectPlanEntry; from: string; why?: string } | { copied: string }> {
  const entry: DirectPlanEntry = {
    name: d.name,
    version: d.version,
    dist_info: containerPath(env.dir, d.distInfo, PERSIST),
    editable: d.origin.kind === "dir" && d.origin.editable,
  };
  const o = d.origin;
  if (o.kind === "vcs" || o.kind === "url") {
    return { entry: { ...entry, url: o.requirement }, from: o.requirement };
  }
  if (o.kind === "unknown") return { entry, from: "its installed files", why: "no known origin" };
  const st = await statOrNull(o.path);
  if (o.kind === "file") {
    if (!st?.isFile) return { entry, from: o.path, why: `${o.path} is gone` };
    if (o.sha256 && (await sha256File(o.path)) !== o.sha256) {
      return { entry, from: o.path, why: `${o.path} changed since it was installed` };
    }
    const dist = parseDistFilename(basename(o.path));
    if (dist?.kind === "wheel" && dist.name === d.name && dist.version === d.version) {
      return { copied: o.path };
    }
    const target = `${DIRECT_SRC_MOUNT}/${i}/${basename(o.path)}`;
    mounts.push({ source: o.path, target, readOnly: true });
    return { entry: { ...entry, src: target }, from: o.path };
  }
  if (!st?.isDirectory) return { entry, from: o.path, why: `${o.path} is gone` };
  const target = `${DIRECT_SRC_MOUNT}/${i}`;
  mounts.push({ source: o.path, target, readOnly: true });
  return {
    entry: { ...entry, src: target, ...(o.subdirectory ? { subdirectory: o.subdirectory } : {}) },
    from: o.path,
  };
}

/**
 * Wheels for the packages not installed from the index: a recorded local wheel is copied;
 * anything else is built inside the image by freeze_direct.py (from its origin, else from
 * its installed files). A package with no way to a wheel is refused by name.
 */
async function freezeDirect(
  ctx: ExecContext,
  env: LoadedEnv,
  exec: EnvExec,
  direct: DirectPackage[],
): Promise<DirectOutcome[]> {
  const vendor = join(env.dir, "vendor");
  const done: DirectOutcome[] = [];
  const plan: DirectPlanEntry[] = [];
  const origins = new Map<string, { from: string; why?: string }>();
  const mounts: Mount[] = [];
  for (const d of direct) {
    const p = await planDirect(env, d, plan.length, mounts);
    if ("copied" in p) {
      await intoVendor(vendor, p.copied, d, false);
      done.push({ name: d.name, version: d.version, how: "copied", from: p.copied });
    } else {
      plan.push(p.why ? { ...p.entry, gone: p.why } : p.entry);
      origins.set(d.name, { from: p.from, why: p.why });
    }
  }
  if (!plan.length) return done;
  ctx.note(
    `Building ${plan.length} wheel(s) of packages not from the index: ${
      plan.map((e) => `${e.name}==${e.version}`).join(", ")
    } ...`,
  );
  const work = await Deno.makeTempDir({ dir: env.dir, prefix: ".freeze-" });
  try {
    await Deno.writeTextFile(join(work, "freeze_direct.py"), freezeDirectScript);
    await Deno.writeTextFile(join(work, "plan.json"), JSON.stringify(plan, null, 2));
    await Deno.mkdir(join(work, "out"));
    const res = await exec.run([
      "python3",
      `${DIRECT_MOUNT}/freeze_direct.py`,
      `${DIRECT_MOUNT}/plan.json`,
      `${DIRECT_MOUNT}/out`,
      `${DIRECT_MOUNT}/result.json`,
    ], { extraMounts: [{ source: work, target: DIRECT_MOUNT }, ...mounts] });
    let results: {
      name: string;
      version: string;
      wheel: string | null;
      how: string;
      why: string;
    }[];
    try {
      results = JSON.parse(await Deno.readTextFile(join(work, "result.json")));
    } catch {
      throw new VenvoyError(
        `building wheels for the packages not from the index failed in '${env.name}' (exit ${res.code}); see the output above`,
        { hint: "check that the environment's image runs (venvoy run), then freeze again" },
      );
    }
    const failed: string[] = [];
    for (const r of results) {
      const o = origins.get(r.name);
      const file = r.wheel ? basename(r.wheel) : null;
      if (file && r.wheel === file) {
        await intoVendor(vendor, join(work, "out", file), r, true);
        done.push({
          name: r.name,
          version: r.version,
          how: r.how === "built" ? "built" : "reconstructed",
          from: o?.from ?? "",
          ...(r.how === "built" ? {} : { why: r.why }),
        });
      } else {
        const editable = plan.find((e) => e.name === r.name)?.editable;
        failed.push(
          `${r.name}==${r.version} (${editable ? "editable project " : ""}${o?.from}): ${r.why}`,
        );
      }
    }
    if (failed.length) {
      throw new VenvoyError(`cannot freeze ${failed.join("; ")}`, {
        hint: "restore its origin (the project folder or file), or reinstall it from a wheel " +
          "or the index in a session (venvoy run --command 'pip install ...'), then run " +
          "venvoy freeze again",
      });
    }
    return done;
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}
