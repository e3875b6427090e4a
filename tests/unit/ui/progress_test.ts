import assert from "node:assert/strict";
import { progressMode, withProgress } from "../../../src/ui/progress.ts";

Deno.test("withProgress piped: a start line and an end line with the time; failed on error", async () => {
  const lines: string[] = [];
  let t = 0;
  const opts = { mode: "lines" as const, write: (l: string) => lines.push(l), now: () => t };
  assert.equal(await withProgress("Building", () => (t = 1500, Promise.resolve(7)), opts), 7);
  await assert.rejects(withProgress("Pinning", () => Promise.reject(new Error("x")), opts), /x/);
  await withProgress("Quiet", () => Promise.resolve(), { ...opts, quiet: true });
  assert.deepEqual(lines, [
    "Building ...",
    "Building: done (1.5 s)",
    "Pinning ...",
    "Pinning: failed (0.0 s)",
  ]);
});

function withoutNoColor(): Record<string, string> {
  const all = Deno.env.toObject();
  delete all.NO_COLOR;
  return all;
}

/** progressMode() in a child whose stderr is a terminal (util-linux `script`), or null. */
async function modeOnTerminal(env: Record<string, string>): Promise<string | null> {
  const url = new URL("../../../src/ui/progress.ts", import.meta.url).href;
  const code = `const { progressMode } = await import(${JSON.stringify(url)});` +
    `await Deno.writeTextFile(Deno.args[0], progressMode());`;
  const out = await Deno.makeTempFile({ prefix: "venvoy-progress-" });
  try {
    const cmd = `${Deno.execPath()} eval --no-config ${JSON.stringify(code)} ${out}`;
    const res = await new Deno.Command("script", {
      args: ["-qec", cmd, "/dev/null"],
      // The child's environment is exactly this one's without NO_COLOR (CI sets it), plus `env`.
      clearEnv: true,
      env: { ...withoutNoColor(), ...env, TERM: "xterm" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output().catch(() => null);
    if (!res?.success) return null;
    return await Deno.readTextFile(out);
  } finally {
    await Deno.remove(out);
  }
}

Deno.test("progress is animated only on a terminal, and never under NO_COLOR", async (t) => {
  if (!Deno.stderr.isTerminal()) assert.equal(progressMode(), "lines", "piped: plain lines");
  const plain = await modeOnTerminal({});
  if (plain === null) {
    console.log("skipped the terminal half: util-linux `script` is not available");
    return;
  }
  await t.step("terminal: bar", () => assert.equal(plain, "bar"));
  await t.step("terminal with NO_COLOR: lines", async () => {
    assert.equal(await modeOnTerminal({ NO_COLOR: "1" }), "lines");
  });
});
