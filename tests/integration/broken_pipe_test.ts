/**
 * Issue 11, item 18: `venvoy list | head -1`. The reader of stdout goes away before venvoy
 * writes; venvoy ends quietly (nothing on stderr) with 141, the status of a SIGPIPE death
 * that coreutils report, not as an internal error with exit 1.
 */
import assert from "node:assert/strict";
import { venvoyBin } from "./cli.ts";

async function withClosedStdout(args: string[], env: Record<string, string> = {}) {
  const bin = await venvoyBin();
  const home = await Deno.makeTempDir({ prefix: "venvoy-pipe-" });
  // A venv for `vup-core ls` to list on stdout.
  await Deno.mkdir(`${home}/.venv/main/bin`, { recursive: true });
  await Deno.writeTextFile(`${home}/.venv/main/bin/activate`, "");
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--no-config", "--no-lock", "--quiet", bin, ...args],
      cwd: home,
      env: { NO_COLOR: "1", HOME: home, VENVOY_HOME: `${home}/state`, ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await child.stdout.cancel(); // the read end closes before venvoy has started
    const stderr = new TextDecoder().decode(
      new Uint8Array(await new Response(child.stderr).arrayBuffer()),
    );
    const { code } = await child.status;
    return { code, stderr };
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

for (
  const args of [
    ["list", "--json"],
    ["runtime-info"],
    ["vup-core", "ls"],
  ]
) {
  Deno.test(`venvoy ${args.join(" ")} into a closed pipe: quiet, exit 141`, async () => {
    const r = await withClosedStdout(args);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 141);
  });
}
