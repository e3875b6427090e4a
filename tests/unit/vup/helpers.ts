/** Temporary homes with fake venvs (a folder with bin/activate) for vup-core unit tests. */
import type { VupContext } from "../../../src/vup/core.ts";
import { tempDir } from "../../fakes/tmp.ts";

const made: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const d of made) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch { /* already gone */ }
  }
});

/** A temporary directory, by its real path, removed when the test module unloads. */
export async function tempHome(): Promise<string> {
  const d = await Deno.realPath(await tempDir("vup-home-"));
  made.push(d);
  return d;
}

export function fakeVenv(path: string): void {
  Deno.mkdirSync(`${path}/bin`, { recursive: true });
  Deno.writeTextFileSync(`${path}/bin/activate`, "# fake\n");
}

export function mkdirp(path: string): void {
  Deno.mkdirSync(path, { recursive: true });
}

export function ctx(home: string, cwd: string, env: Record<string, string> = {}): VupContext {
  return { home, cwd, env: (n) => env[n] };
}
