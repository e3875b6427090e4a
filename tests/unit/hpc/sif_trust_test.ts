/**
 * Issue 18.5: a SIF runs only if venvoy made it and its bytes are those it recorded, for
 * the image-<hex>.sif of an OCI environment and the image.sif of a SIF environment alike.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { isTrustedSif, recordSif, sifNameFor, trustPathFor } from "../../../src/hpc/sif.ts";
import { createRuntime } from "../../../src/runtime/create.ts";
import { imageFor } from "../../../src/session/mod.ts";
import { VenvoyError } from "../../../src/ui/errors.ts";
import { envConfig } from "../../fakes/env_config.ts";
import { RecordingRunner } from "../../fakes/runner.ts";
import { tempDir } from "../../fakes/tmp.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");
const apptainer = () => createRuntime("apptainer", new RecordingRunner(), { path: "/x/apptainer" });

Deno.test("a SIF environment's image.sif runs while its bytes are the recorded sha256", async () => {
  const dir = await tempDir("venvoy-sif-");
  try {
    const sif = join(dir, "image.sif");
    await Deno.writeTextFile(sif, "SIF one");
    const env = {
      name: "s",
      dir,
      config: envConfig({
        name: "s",
        engine: "apptainer",
        image: sif,
        image_id: `sha256:${sha("SIF one")}`,
      }),
    };
    // Made by an older venvoy (no record): hashed once against config.yaml, then recorded.
    assertEquals(imageFor(apptainer(), env), sif);
    assert.ok(Deno.statSync(trustPathFor(sif)).isFile);
    assertEquals(imageFor(apptainer(), env), sif);
    // Changed in place, the same size: not run.
    await Deno.writeTextFile(sif, "SIF two");
    assert.throws(
      () => imageFor(apptainer(), env),
      (e: unknown) => e instanceof VenvoyError && /sha256 differs/.test(e.message),
    );
    // Rebuilt by init --force (config.yaml names the new sha256): the old record is moot.
    env.config.image_id = `sha256:${sha("SIF two")}`;
    assertEquals(imageFor(apptainer(), env), sif);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("image-<hex>.sif: only with venvoy's record for this image, and unchanged", async () => {
  const dir = await tempDir("venvoy-sif-");
  try {
    const id = `sha256:${"0123456789ab".padEnd(64, "c")}`;
    const sif = join(dir, sifNameFor(id));
    const env = { name: "o", dir, config: envConfig({ name: "o", image_id: id }) };
    await Deno.writeTextFile(sif, "planted");
    assert.throws(() => imageFor(apptainer(), env), /no apptainer image \(SIF\) that venvoy made/);
    assertEquals(isTrustedSif(sif, id), false);
    recordSif(sif, id);
    assertEquals(imageFor(apptainer(), env), sif);
    assertEquals(isTrustedSif(sif, `sha256:${"f".repeat(64)}`), false, "another image's record");
    await Deno.writeTextFile(sif, "changed");
    assertEquals(isTrustedSif(sif, id), false);
    await Deno.remove(sif);
    await Deno.symlink(trustPathFor(sif), sif);
    assertEquals(isTrustedSif(sif, id), false, "a link is not a SIF venvoy made");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stamp taken in the tick the SIF changed is not trusted: the SIF is hashed", async () => {
  // File times are coarse: a same-size rewrite right after recordSif can keep inode, size,
  // mtime and ctime. Stated here exactly: a record whose stamp is the changed file's own,
  // taken as it changed. Seen as a CI flake of run_hpc_test before the rule.
  const dir = await tempDir("venvoy-sif-");
  try {
    const id = `sha256:${"0123456789ab".padEnd(64, "d")}`;
    const sif = join(dir, sifNameFor(id));
    await Deno.writeTextFile(sif, "made");
    recordSif(sif, id);
    await Deno.writeTextFile(sif, "EVIL");
    const st = Deno.lstatSync(sif);
    const stamp = [st.ino, st.size, st.mtime?.getTime(), st.ctime?.getTime()].join(":");
    const rec = JSON.parse(Deno.readTextFileSync(trustPathFor(sif)));
    const write = (recorded_ms: number) =>
      Deno.writeTextFileSync(trustPathFor(sif), JSON.stringify({ ...rec, stamp, recorded_ms }));
    write(st.ctime!.getTime());
    assertEquals(isTrustedSif(sif, id), false, "hashed: the bytes are not venvoy's");
    // Taken well after the last change, the stamp stands for the bytes (one stat, no hash).
    write(st.ctime!.getTime() + 60_000);
    assertEquals(isTrustedSif(sif, id), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
