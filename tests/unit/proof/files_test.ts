import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  collectEntries,
  firstDifference,
  isInside,
  isText,
  relativeTo,
} from "../../../src/proof/files.ts";
import { tempDir } from "../../fakes/tmp.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

Deno.test("collectEntries: folders walked, links recorded and not followed, paths relative", async () => {
  const root = await tempDir("venvoy proof ");
  const outside = await tempDir("venvoy outside ");
  await Deno.writeTextFile(join(outside, "secret.txt"), "secret");
  await Deno.mkdir(join(root, "data", "sub"), { recursive: true });
  await Deno.writeTextFile(join(root, "data", "b.csv"), "1,2\n");
  await Deno.writeTextFile(join(root, "data", "sub", "a.txt"), "a");
  await Deno.symlink(outside, join(root, "data", "out-link"));
  await Deno.symlink("b.csv", join(root, "data", "same"));
  const got = await collectEntries(root, "data");
  assertEquals(got, [
    { path: "data/b.csv", type: "file", size: 4, sha256: sha("1,2\n") },
    { path: "data/out-link", type: "symlink", target: outside },
    { path: "data/same", type: "symlink", target: "b.csv" },
    { path: "data/sub/a.txt", type: "file", size: 1, sha256: sha("a") },
  ]);
  assertEquals(await collectEntries(root, "nothing"), null);
  assertEquals(await collectEntries(root, "data/b.csv"), [got![0]]);
});

Deno.test("relativeTo and isInside: outputs outside the folder are told apart", () => {
  assertEquals(relativeTo("/w/p", "out/x.txt"), "out/x.txt");
  assertEquals(relativeTo("/w/p", "/w/p/out/"), "out");
  assertEquals(relativeTo("/w/p", "../q/x"), "../q/x");
  assertEquals(relativeTo("/w/p", "/etc/passwd"), "../../etc/passwd");
  for (const p of ["out", "a/b", "..x"]) assert(isInside(p), p);
  for (const p of ["", "..", "../x", "/etc"]) assert(!isInside(p), p);
});

Deno.test("isText and firstDifference", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  assert(isText(enc("héllo\n")));
  assert(!isText(new Uint8Array([104, 0, 105])));
  assert(!isText(new Uint8Array([0xff, 0xfe, 0x41])));
  assertEquals(firstDifference(enc("1701234567\n"), enc("1701239999\n")), 6);
  assertEquals(firstDifference(enc("abc"), enc("abc")), null);
  assertEquals(firstDifference(enc("abc"), enc("abcd")), 3);
});
