import assert from "node:assert/strict";
import { join } from "node:path";
import { replaceAtomic, TMP_MARK, writeFileAtomic } from "../../../src/util/atomic.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "venvoy-atomic-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("writeFileAtomic replaces the file and leaves no temporary file", () =>
  withDir(async (dir) => {
    const p = join(dir, "a.txt");
    await writeFileAtomic(p, "one");
    await writeFileAtomic(p, new TextEncoder().encode("two"), { fsync: true });
    assert.equal(await Deno.readTextFile(p), "two");
    assert.deepEqual(names(dir), ["a.txt"]);
  }));

Deno.test("writeFileAtomic: a failed fill leaves the old file whole and no temporary", () =>
  withDir(async (dir) => {
    const p = join(dir, "a.txt");
    await writeFileAtomic(p, "old");
    await assert.rejects(
      replaceAtomic(p, async (tmp) => {
        await Deno.writeTextFile(tmp, "half");
        throw new Error("disk full");
      }),
      /disk full/,
    );
    assert.equal(await Deno.readTextFile(p), "old");
    assert.deepEqual(names(dir), ["a.txt"]);
  }));

Deno.test("writeFileAtomic createOnly refuses an existing file and keeps it", () =>
  withDir(async (dir) => {
    const p = join(dir, "a.txt");
    await writeFileAtomic(p, "mine", { createOnly: true });
    await assert.rejects(
      writeFileAtomic(p, "theirs", { createOnly: true }),
      Deno.errors.AlreadyExists,
    );
    await assert.rejects(
      writeFileAtomic(p, "theirs", { createOnly: true, onExists: () => new RangeError("taken") }),
      /taken/,
    );
    assert.equal(await Deno.readTextFile(p), "mine");
    assert.deepEqual(names(dir), ["a.txt"]);
  }));

Deno.test("writeFileAtomic sets an exact mode, parents are created unless mkdir: false, the temp name is hidden", () =>
  withDir(async (dir) => {
    const p = join(dir, "x", "y", "rc");
    await writeFileAtomic(p, "v", { mode: 0o600 });
    assert.equal((await Deno.stat(p)).mode! & 0o777, 0o600);
    await assert.rejects(
      writeFileAtomic(join(dir, "no", "f"), "v", { mkdir: false }),
      Deno.errors.NotFound,
    );
    let seen = "";
    await replaceAtomic(join(dir, "b"), async (tmp) => {
      seen = tmp;
      await Deno.writeTextFile(tmp, "b");
    });
    assert.match(seen, new RegExp(`/\\.b${TMP_MARK.replace(".", "\\.")}${Deno.pid}-\\w+$`));
  }));
