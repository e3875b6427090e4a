/** Runs the bundled product (dist/venvoy) from a directory outside the source tree. */
import { join } from "node:path";

const source = new URL("../../dist/venvoy", import.meta.url).pathname;

let copied: string | null = null;

/** dist/venvoy copied to a temporary folder once, so no source file can be reached. */
export async function venvoyBin(): Promise<string> {
  if (copied) return copied;
  try {
    await Deno.stat(source);
  } catch {
    throw new Error("dist/venvoy is missing: run `deno task bundle` (test:integration does)");
  }
  const dir = await Deno.makeTempDir({ prefix: "venvoy-bin-" });
  copied = join(dir, "venvoy");
  await Deno.copyFile(source, copied);
  return copied;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function venvoy(
  args: string[],
  options: {
    env?: Record<string, string>;
    cwd?: string;
    clearEnv?: boolean;
    /** Kill it after this long (a hang fails the test instead of stopping the run). */
    timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  const bin = await venvoyBin();
  const cwd = options.cwd ?? await Deno.makeTempDir({ prefix: "venvoy-cwd-" });
  const out = await new Deno.Command(Deno.execPath(), {
    // As its shebang runs it (scripts/bundle.ts).
    args: ["run", "--allow-all", "--no-config", "--no-lock", "--quiet", "--ext=js", bin, ...args],
    cwd,
    env: { NO_COLOR: "1", ...options.env },
    clearEnv: options.clearEnv,
    stdin: "null",
    ...(options.timeoutMs ? { signal: AbortSignal.timeout(options.timeoutMs) } : {}),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * A fresh HOME holding venvoy's state and projects, with the Python environment 'demo''s
 * site-packages made (no config.yaml yet). Remove `root` when done.
 */
export async function demoHome(prefix: string) {
  const root = await Deno.makeTempDir({ prefix });
  const env = {
    HOME: root,
    VENVOY_HOME: join(root, ".venvoy"),
    VENVOY_PROJECTS: join(root, "proj"),
  };
  const envDir = join(env.VENVOY_HOME, "environments", "demo");
  const projectDir = join(env.VENVOY_PROJECTS, "demo");
  const site = join(envDir, "persist/python/lib/python3.11/site-packages");
  await Deno.mkdir(site, { recursive: true });
  return { root, env, envDir, projectDir, site };
}
