/** Stub programs on a temporary PATH, for detection tests. */
import { join } from "node:path";
import { tempDir } from "./tmp.ts";

export interface StubSpec {
  stdout?: string;
  stderr?: string;
  code?: number;
  /** A full script body instead (e.g. the podman-docker shim). */
  script?: string;
  /** Answers by first argument ("--version", "context", …); others get the defaults above. */
  byArg?: Record<string, StubSpec>;
}

export async function stubBin(stubs: Record<string, StubSpec>): Promise<string> {
  const dir = await tempDir("venvoy-stubs-");
  for (const [name, s] of Object.entries(stubs)) {
    // Builtins only: the PATH under test may hold nothing but these stubs.
    const cases = Object.entries(s.byArg ?? {}).map(([arg, a]) => `  ${sq(arg)}) ${answer(a)} ;;`);
    const body = s.script ?? [
      "#!/bin/sh",
      cases.length ? `case "$1" in\n${cases.join("\n")}\nesac` : "",
      `printf '%s\\n' ${sq(s.stdout ?? "")}`,
      s.stderr ? `printf '%s\\n' ${sq(s.stderr)} >&2` : "",
      `exit ${s.code ?? 0}`,
    ].join("\n");
    await Deno.writeTextFile(join(dir, name), body + "\n");
    await Deno.chmod(join(dir, name), 0o755);
  }
  return dir;
}

function answer(a: StubSpec): string {
  const err = a.stderr ? `printf '%s\\n' ${sq(a.stderr)} >&2; ` : "";
  return `printf '%s\\n' ${sq(a.stdout ?? "")}; ${err}exit ${a.code ?? 0}`;
}

function sq(s: string): string {
  return `'${s.replaceAll("'", `'"'"'`)}'`;
}

export const DOCKER_REAL = JSON.stringify({
  Client: { Version: "27.3.1" },
  Server: { Version: "27.3.1", Components: [{ Name: "Engine", Version: "27.3.1" }] },
});
export const DOCKER_ON_PODMAN = JSON.stringify({
  Client: { Version: "28.2.2" },
  Server: { Components: [{ Name: "Podman Engine", Version: "4.3.1" }] },
});
export const DOCKER_DOWN = JSON.stringify({ Client: { Version: "28.2.2" }, Server: null });
export const PODMAN = JSON.stringify({ Client: { Version: "4.9.3" } });
