/**
 * `venvoy freeze`, run: every Python package of the environment's current state into
 * vendor/ as a wheel (built inside the environment's image where only an sdist exists, so
 * it matches its platform), requirements.lock with their sha256 hashes, and R source
 * packages into vendor/R where the index has them. Afterwards
 * `venvoy init --force --offline` rebuilds the environment with networking disabled.
 */
import { join } from "node:path";
import { LOCK_FILE } from "../build/mod.ts";
import { writeFileAtomic } from "../env/config.ts";
import { readBasePackages } from "../env/capture.ts";
import { type LoadedEnv, loadEnv, pickEnvName } from "../env/store.ts";
import { VenvoyError } from "../ui/errors.ts";
import { envExec, type ExecContext } from "./exec.ts";
import {
  freezePackages,
  lockFromVendor,
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

  if (pkgs.length) {
    await writeFileAtomic(join(vendor, PINS_FILE), renderPins(pkgs));
    ctx.note(`Downloading ${pkgs.length} Python package(s) into ${vendor} (wheels) ...`);
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
  };
}
