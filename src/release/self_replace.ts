/**
 * Replacing the venvoy executable in place, so that at every moment a working venvoy is
 * there: the new file is written next to the old one, must answer `--version` with the
 * expected version, and only then is renamed over it. The old file is kept until the new
 * one answers again from its final place, and put back if it does not.
 */
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProcessRunner } from "../process/mod.ts";
import { VenvoyError } from "../ui/errors.ts";

const VERSION_TIMEOUT_MS = 60_000;

/**
 * The file that is the running venvoy: the compiled binary, or the bundle that deno runs
 * (an installed bundle may be reached through a link; the real file is returned). null
 * when venvoy runs from its source tree (main.ts), which has nothing to replace.
 */
export function selfPath(
  info: { standalone: boolean; execPath: string; mainModule: string } = {
    standalone: Deno.build.standalone,
    execPath: Deno.execPath(),
    mainModule: Deno.mainModule,
  },
): string | null {
  if (info.standalone) return realPathOr(info.execPath);
  if (!info.mainModule.startsWith("file:")) return null;
  const path = fileURLToPath(info.mainModule);
  if (/\.[cm]?[jt]sx?$/.test(path)) return null;
  return realPathOr(path);
}

/** The file a path finally names (links followed), or the path itself if it is not there. */
export function realPathOr(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

export interface ReplaceOptions {
  runner: ProcessRunner;
  /** What `<new> --version` must print. */
  expectVersion: string;
  /** Defaults to this machine's. Windows cannot rename over a running program. */
  os?: "windows" | "posix";
}

/**
 * Puts `bytes` in place of the executable at `target` (a link is followed to its file).
 * Throws, with `target` untouched, when the new program cannot be written or does not
 * answer `--version` with `expectVersion`. Returns the path replaced.
 */
export async function replaceExecutable(
  target: string,
  bytes: Uint8Array,
  options: ReplaceOptions,
): Promise<string> {
  const path = realPathOr(target);
  const dir = dirname(path);
  const os = options.os ?? (Deno.build.os === "windows" ? "windows" : "posix");
  const mode = (await Deno.stat(path).catch(() => null))?.mode;
  const staged = join(dir, `.${basename(path)}.new-${crypto.randomUUID().slice(0, 8)}`);
  const backup = `${path}.old`;

  try {
    await Deno.writeFile(staged, bytes, { mode: 0o755 });
    if (mode != null) await Deno.chmod(staged, (mode & 0o777) | 0o500);
  } catch (e) {
    await removeQuietly(staged);
    throw cannotWrite(dir, e);
  }
  try {
    await checkVersion(options.runner, staged, options.expectVersion);
  } catch (e) {
    await removeQuietly(staged);
    throw e;
  }

  await removeQuietly(backup); // left by an earlier update on Windows
  if (os === "windows") {
    // The running .exe cannot be replaced or deleted, but it can be renamed away.
    await Deno.rename(path, backup);
    try {
      await Deno.rename(staged, path);
    } catch (e) {
      await Deno.rename(backup, path);
      await removeQuietly(staged);
      throw cannotWrite(dir, e);
    }
  } else {
    await Deno.link(path, backup).catch(() => Deno.copyFile(path, backup));
    try {
      await Deno.rename(staged, path); // atomic: `path` is the old or the new file, never neither
    } catch (e) {
      await removeQuietly(staged);
      await removeQuietly(backup);
      throw cannotWrite(dir, e);
    }
  }

  try {
    await checkVersion(options.runner, path, options.expectVersion);
  } catch (e) {
    await Deno.rename(backup, path); // put the old one back
    throw e;
  }
  await removeQuietly(backup); // fails on Windows while the old one runs: the next update cleans up
  return path;
}

/** Runs `<path> --version` and throws unless it succeeds and prints `expect`. */
export async function checkVersion(
  runner: ProcessRunner,
  path: string,
  expect: string,
): Promise<void> {
  let res;
  try {
    res = await runner.run({
      cmd: [path, "--version"],
      stdin: "null",
      timeoutMs: VERSION_TIMEOUT_MS,
    });
  } catch (e) {
    throw new VenvoyError(`the new venvoy could not be started: ${(e as Error).message}`, {
      hint: "nothing was changed; the download may be for another platform",
      cause: e,
    });
  }
  const printed = res.stdout.trim().split(/\s+/).pop() ?? "";
  if (res.code === 0 && printed === expect) return;
  const said = (res.stdout.trim() || res.stderr.trim()).split("\n").slice(0, 3).join(" / ");
  throw new VenvoyError(
    `the new venvoy did not answer --version with ${expect} ` +
      `(${res.timedOut ? "timed out" : `exit ${res.code}`}${said ? `: ${said}` : ""})`,
    {
      hint: "nothing was changed; the release may be broken, or built for another platform",
    },
  );
}

function cannotWrite(dir: string, e: unknown): VenvoyError {
  return new VenvoyError(`cannot write to ${dir}: ${(e as Error).message}`, {
    hint: e instanceof Deno.errors.PermissionDenied
      ? `venvoy is installed where this user cannot write; re-run with rights to ${dir}, ` +
        "or install it again with install.sh"
      : undefined,
    cause: e,
  });
}

async function removeQuietly(path: string): Promise<void> {
  await Deno.remove(path).catch(() => {});
}
