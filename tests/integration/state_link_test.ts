/**
 * Issue 12, item 7: venvoy's state through a link. Cluster homes are links
 * (/home/u -> /gpfs/home/u), and VENVOY_HOME may itself be a link to scratch. Through the
 * bundled dist/venvoy, with the lab's podman: init, list, run and delete all work, and the
 * state lands in the real folder.
 */
import assert from "node:assert/strict";
import { ignoreUnless, LAB_PYTHON, tempDir } from "./lab.ts";
import { venvoy } from "./cli.ts";

Deno.test({
  name: "VENVOY_HOME a link to a real folder: init, list, run, delete (podman)",
  ignore: ignoreUnless("podman"),
  fn: async () => {
    const root = await Deno.realPath(await tempDir("state-link"));
    const name = `it-link-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.mkdir(`${root}/gpfs/scratch/venvoy`, { recursive: true });
    await Deno.symlink(`${root}/gpfs/scratch/venvoy`, `${root}/vh`);
    const env = {
      VENVOY_HOME: `${root}/vh`,
      VENVOY_PROJECTS: `${root}/projects`,
      XDG_CACHE_HOME: `${root}/cache`,
    };
    const cli = (args: string[]) => venvoy(args, { env, cwd: root });
    try {
      let r = await cli(["--engine", "podman", "init", "--name", name, "--base-image", LAB_PYTHON]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        Deno.statSync(`${root}/gpfs/scratch/venvoy/environments/${name}/config.yaml`).isFile,
      );
      assert.ok(Deno.lstatSync(`${root}/vh`).isSymlink, "the link stays a link");
      r = await cli(["list", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).map((e: { name: string }) => e.name), [name]);
      r = await cli(["run", name, "--command", "python3 -c 'print(6*7)'"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /42/);
      r = await cli(["delete", name, "--force", "--purge"]);
      assert.equal(r.code, 0, r.stderr);
      r = await cli(["list", "--json"]);
      assert.deepEqual(JSON.parse(r.stdout), []);
      assert.ok(Deno.lstatSync(`${root}/vh`).isSymlink, "delete keeps the link");
    } finally {
      await cli(["delete", name, "--force", "--purge"]);
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
  },
});
