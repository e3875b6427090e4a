import assert from "node:assert/strict";
import { buildProgram } from "../../../src/cli.ts";
import { parseRunArgs } from "../../../src/commands/run.ts";
import type { RunOptions } from "../../../src/session/run.ts";

/** What commander hands to `run`'s action for these arguments (the action is swapped). */
async function viaCommander(argv: string[]): Promise<RunOptions> {
  const program = buildProgram();
  let got: RunOptions | null = null;
  const cmd = program.commands.find((c) => c.name() === "run")!;
  cmd.action((...args: unknown[]) => {
    const [positional, opts] = args as [string | undefined, RunOptions];
    got = { ...opts, positional };
  });
  await program.parseAsync(["run", ...argv], { from: "user" });
  assert.ok(got, "the action ran");
  return got;
}

/** Drops keys whose value is undefined, as the two parsers differ only in that. */
const defined = (o: RunOptions) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const ACCEPTED: string[][] = [
  [],
  ["study"],
  ["study", "--command", "python a.py && python b.py"],
  ["--name", "study", "--command=true"],
  ["study", "--command", ""],
  ["--command", "echo 'a b'", "study", "--no-home"],
  ["study", "--mount", "/data:/data:ro", "--mount=/x:/y", "--env", "A=1", "--env=B=2=3"],
  ["study", "--name", "other", "--name", "last"],
  ["--env", "K=", "--command", "x"],
  ["--name", "study", "--read-only", "--command", "python a.py"],
  ["study", "--gpus", "--read-only", "--no-home", "--command=nvidia-smi"],
];

Deno.test("parseRunArgs gives exactly commander's options for every form it accepts", async () => {
  for (const argv of ACCEPTED) {
    const fast = parseRunArgs(argv);
    assert.ok(fast, `accepted: ${JSON.stringify(argv)}`);
    assert.deepEqual(defined(fast), defined(await viaCommander(argv)), JSON.stringify(argv));
  }
});

Deno.test("parseRunArgs leaves everything else to commander", () => {
  for (
    const argv of [
      ["--help"],
      ["-h"],
      ["study", "--debug"],
      ["--engine", "podman", "study"],
      ["study", "other"],
      ["study", "--command"],
      ["study", "--command", "-c"],
      ["study", "--bogus"],
      ["study", "--no-home=1"],
      ["--", "study"],
      ["study", "--read-only=1"],
      ["study", "--gpus=2"],
      ["-"],
    ]
  ) {
    assert.equal(parseRunArgs(argv), null, JSON.stringify(argv));
  }
});
