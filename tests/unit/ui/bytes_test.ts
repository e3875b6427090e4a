import assert from "node:assert/strict";
import { formatBytes } from "../../../src/ui/bytes.ts";

Deno.test("one byte format: SI units, powers of 1000 (1,048,576 bytes is 1.0 MB, not '1 MB' of MiB)", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(1000), "1.0 kB");
  assert.equal(formatBytes(1_048_576), "1.0 MB");
  assert.equal(formatBytes(52_428_800), "52 MB");
  assert.equal(formatBytes(1_234_567_890), "1.2 GB");
  assert.equal(formatBytes(-5), "0 B");
});

Deno.test("no other byte formatter in src/: no unit lists or megabyte divisors elsewhere", async () => {
  const hits: string[] = [];
  const walk = async (dir: URL) => {
    for await (const e of Deno.readDir(dir)) {
      const u = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) await walk(u);
      else if (e.name.endsWith(".ts") && !u.pathname.endsWith("/ui/bytes.ts")) {
        const text = await Deno.readTextFile(u);
        for (const line of text.split("\n")) {
          if (/^\s*(\/\/|\*)/.test(line)) continue; // comments may name units
          if (/["'`](KB|kB|MB|GB|KiB|MiB|GiB)["'`]|\b(1e6|1048576|1_048_576)\b/.test(line)) {
            hits.push(`${u.pathname}: ${line.trim()}`);
          }
        }
      }
    }
  };
  await walk(new URL("../../../src/", import.meta.url));
  assert.deepEqual(hits, []);
});
