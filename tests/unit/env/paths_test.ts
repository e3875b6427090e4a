import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { statePaths } from "../../../src/env/paths.ts";
import { VenvoyError } from "../../../src/ui/errors.ts";

const env = (vars: Record<string, string>) => (n: string) => vars[n];

Deno.test("state roots default under HOME", () => {
  const p = statePaths(env({ HOME: "/home/ann" }));
  assertEquals([p.venvoyHome, p.projects, p.environments, p.globalConfig], [
    "/home/ann/.venvoy",
    "/home/ann/venvoy-projects",
    "/home/ann/.venvoy/environments",
    "/home/ann/.venvoy/config.yaml",
  ]);
});

Deno.test("VENVOY_HOME and VENVOY_PROJECTS move all state; then HOME is not needed", () => {
  const p = statePaths(env({ VENVOY_HOME: "/scratch/v", VENVOY_PROJECTS: "/scratch/p" }));
  assertEquals([p.venvoyHome, p.projects], ["/scratch/v", "/scratch/p"]);
});

Deno.test("no HOME and no state variables: a typed error with a hint", () => {
  assert.throws(
    () => statePaths(env({})),
    (e) => e instanceof VenvoyError && /HOME/.test(e.message) && /VENVOY_HOME/.test(e.hint ?? ""),
  );
});
