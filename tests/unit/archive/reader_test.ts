import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  type ArchiveError,
  ChecksumMismatchError,
  CorruptArchiveError,
  DuplicateMemberError,
  ForbiddenMemberTypeError,
  InvalidManifestError,
  MissingManifestError,
  MissingMemberError,
  NameClashError,
  NotAnArchiveError,
  TruncatedArchiveError,
  UnlistedMemberError,
  UnsafeMemberError,
} from "../../../src/archive/errors.ts";
import { extractVerified, resolvesInside } from "../../../src/archive/reader.ts";
import { craftArchive, type Crafted, manifestFor, tarBytes } from "./craft.ts";
import { tempDir } from "../../fakes/tmp.ts";

/**
 * A sandbox: <root>/archive.tar.gz and <root>/deep/er/tmp as the extraction parent, so a
 * '../../..' escape would land in <root>. After every refusal the whole sandbox must hold
 * exactly what it held before.
 */
async function sandbox(bytes: Uint8Array) {
  const root = await tempDir("venvoy-hostile-");
  const tmpDir = join(root, "deep", "er", "tmp");
  await Deno.mkdir(tmpDir, { recursive: true });
  const file = join(root, "archive.tar.gz");
  await Deno.writeFile(file, bytes);
  return { root, tmpDir, file };
}

async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix + e.name;
    out.push(rel);
    if (e.isDirectory) out.push(...await listTree(join(dir, e.name), rel + "/"));
  }
  return out.sort();
}

const BEFORE = ["archive.tar.gz", "deep", "deep/er", "deep/er/tmp"];

async function refused(
  bytes: Uint8Array,
  type: new (...a: never[]) => ArchiveError,
  message: RegExp,
): Promise<void> {
  const { root, tmpDir, file } = await sandbox(bytes);
  try {
    await assert.rejects(extractVerified(file, { tmpDir }), (e: unknown) => {
      assert(e instanceof type, `expected ${type.name}, got ${(e as Error)?.name}: ${e}`);
      assert.match((e as Error).message, /^refusing archive\.tar\.gz: /);
      assert.match((e as Error).message, message);
      assert((e as ArchiveError).hint, "an archive refusal carries a hint");
      return true;
    });
    assertEquals(await listTree(root), BEFORE, "nothing written outside, temp folder removed");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const ok: Crafted[] = [
  { name: "env/config.yaml", data: "name: demo\n" },
  { name: "image.tar", data: "not really an image" },
];

Deno.test("a well-formed archive is extracted and verified", async () => {
  const members: Crafted[] = [
    ...ok,
    { name: "env/persist/lib/libz.so.1", data: "ELF" },
    { name: "env/persist/lib/libz.so", type: "symlink", target: "libz.so.1" },
    { name: "env/persist/alias", type: "symlink", target: "lib/../lib/libz.so" },
    { name: "restore.sh", data: "#!/bin/sh\n", mode: 0o755 },
  ];
  const { root, tmpDir, file } = await sandbox(craftArchive(members));
  try {
    const got = await extractVerified(file, { tmpDir });
    assert(got.dir.startsWith(tmpDir));
    assertEquals(await Deno.readTextFile(join(got.dir, "env/config.yaml")), "name: demo\n");
    assertEquals(await Deno.readTextFile(join(got.dir, "env/persist/alias")), "ELF");
    assertEquals(await Deno.readLink(join(got.dir, "env/persist/lib/libz.so")), "libz.so.1");
    assert(((await Deno.stat(join(got.dir, "restore.sh"))).mode! & 0o111) !== 0);
    assertEquals(got.manifest.engine, "podman");
    assertEquals(
      Object.keys(got.checksums).sort(),
      [
        "env/config.yaml",
        "env/persist/lib/libz.so.1",
        "image.tar",
        "manifest.json",
        "restore.sh",
      ].filter((n) => n !== "manifest.json"),
    );
    await got.cleanup();
    assertEquals(await listTree(root), BEFORE);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hostile: path traversal with '..'", async () => {
  const evil: Crafted[] = [...ok, { name: "../../../escaped.txt", data: "pwned" }];
  await refused(craftArchive(evil), UnsafeMemberError, /'\.\.\/\.\.\/\.\.\/escaped\.txt' escapes/);
});

Deno.test("hostile: traversal hidden in the middle of a path", async () => {
  const evil: Crafted[] = [{ name: "env/../../../../escaped.txt", data: "pwned" }];
  await refused(craftArchive(evil), UnsafeMemberError, /escapes the archive/);
});

Deno.test("hostile: absolute member path", async () => {
  const evil: Crafted[] = [...ok, { name: "/tmp/venvoy-absolute-escape.txt", data: "pwned" }];
  await refused(craftArchive(evil), UnsafeMemberError, /has an absolute path/);
  await assert.rejects(Deno.stat("/tmp/venvoy-absolute-escape.txt"));
});

Deno.test("hostile: symlink pointing outside, then a file written through it", async () => {
  const evil: Crafted[] = [
    { name: "up", type: "symlink", target: "../../.." },
    { name: "up/escaped.txt", data: "pwned" },
  ];
  await refused(
    craftArchive(evil),
    UnsafeMemberError,
    /'up\/escaped\.txt' lies below the symlink 'up'/,
  );
});

Deno.test("hostile: symlink pointing outside (relative)", async () => {
  const evil: Crafted[] = [...ok, { name: "env/out", type: "symlink", target: "../../secret" }];
  await refused(craftArchive(evil), UnsafeMemberError, /symlink 'env\/out' points outside/);
});

Deno.test("hostile: symlink with an absolute target", async () => {
  const evil: Crafted[] = [...ok, { name: "passwd", type: "symlink", target: "/etc/passwd" }];
  await refused(craftArchive(evil), UnsafeMemberError, /points outside the archive \(absolute/);
});

Deno.test("hostile: chained symlinks that look inside but resolve outside", async () => {
  // Lexically "l/../x" is "x"; the kernel follows l -> "." first, so ".." leaves the root.
  const evil: Crafted[] = [
    ...ok,
    { name: "l", type: "symlink", target: "." },
    { name: "x", type: "symlink", target: "l/../secret" },
  ];
  await refused(craftArchive(evil), UnsafeMemberError, /symlink 'x' points outside/);
});

Deno.test("hostile: hardlink pointing outside", async () => {
  const evil: Crafted[] = [...ok, { name: "h", type: "hardlink", target: "../../../etc/passwd" }];
  await refused(craftArchive(evil), UnsafeMemberError, /hardlink 'h' points outside the archive/);
  const abs: Crafted[] = [...ok, { name: "h", type: "hardlink", target: "/etc/passwd" }];
  await refused(craftArchive(abs), UnsafeMemberError, /hardlink 'h' points outside the archive/);
});

Deno.test("hostile: hardlink to a member that does not exist yet", async () => {
  const evil: Crafted[] = [{ name: "h", type: "hardlink", target: "later" }, ...ok];
  await refused(craftArchive(evil), UnsafeMemberError, /does not name an earlier regular member/);
});

Deno.test("hostile: device files and FIFOs", async () => {
  for (const type of ["char-device", "block-device"] as const) {
    const evil: Crafted[] = [...ok, { name: "dev/sda", type }];
    await refused(craftArchive(evil), ForbiddenMemberTypeError, /'dev\/sda' is a device file/);
  }
  const fifo: Crafted[] = [...ok, { name: "pipe", type: "fifo" }];
  await refused(craftArchive(fifo), ForbiddenMemberTypeError, /'pipe' is a FIFO/);
});

Deno.test("hostile: duplicate members", async () => {
  const evil: Crafted[] = [...ok, { name: "./env/config.yaml", data: "name: evil\n" }];
  await refused(
    craftArchive(evil, { listed: ok }),
    DuplicateMemberError,
    /'env\/config\.yaml' appears more than once/,
  );
});

Deno.test("hostile: member missing from the manifest", async () => {
  const evil: Crafted[] = [...ok, { name: "extra.sh", data: "rm -rf ~" }];
  await refused(
    craftArchive(evil, { listed: ok }),
    UnlistedMemberError,
    /'extra\.sh' is not listed in manifest\.json/,
  );
});

Deno.test("hostile: manifest lists a member the archive lacks", async () => {
  const listed: Crafted[] = [...ok, { name: "gone.txt", data: "x" }];
  await refused(
    craftArchive(ok, { listed }),
    MissingMemberError,
    /lists 'gone\.txt', which the archive lacks/,
  );
});

Deno.test("hostile: tampered member (checksum mismatch)", async () => {
  const tampered: Crafted[] = [ok[0], { name: "image.tar", data: "not really an imagE" }];
  await refused(
    craftArchive(tampered, { listed: ok }),
    ChecksumMismatchError,
    /checksum mismatch for 'image\.tar'/,
  );
});

Deno.test("hostile: missing manifest", async () => {
  await refused(craftArchive(ok, { manifest: null }), MissingManifestError, /no manifest\.json/);
});

Deno.test("hostile: manifest of an unknown format or a newer version", async () => {
  await refused(
    craftArchive(ok, { manifest: { ...manifestFor(ok), format: "something-else" } }),
    InvalidManifestError,
    /format 'something-else'/,
  );
  await refused(
    craftArchive(ok, { manifest: { ...manifestFor(ok), format_version: 99 } }),
    InvalidManifestError,
    /format version 99 is newer/,
  );
  await refused(
    craftArchive(ok, { manifest: "{" as unknown }),
    InvalidManifestError,
    /is not a JSON object|not valid JSON/,
  );
});

Deno.test("hostile: truncated gzip", async () => {
  const whole = craftArchive([...ok, { name: "big", data: "y".repeat(200_000) }]);
  await refused(
    whole.subarray(0, Math.floor(whole.length / 2)),
    TruncatedArchiveError,
    /truncated/,
  );
  await refused(whole.subarray(0, 30), TruncatedArchiveError, /truncated/);
});

Deno.test("hostile: tar stream cut short inside a valid gzip", async () => {
  const tar = tarBytes([...ok, { name: "big", data: "y".repeat(5000) }]);
  await refused(gzipSync(tar.subarray(0, 2048)), TruncatedArchiveError, /tar stream ends/);
});

Deno.test("hostile: corrupt gzip data", async () => {
  const whole = craftArchive([...ok, { name: "big", data: "y".repeat(200_000) }]).slice();
  whole.fill(0x55, 40, 80);
  await refused(whole, CorruptArchiveError, /gzip stream is corrupt/);
});

Deno.test("not an archive at all: plain text, gzip'd text, empty file", async () => {
  const text = new TextEncoder().encode("name: demo\ndependencies: []\n");
  await refused(text, NotAnArchiveError, /not a gzip-compressed tar archive/);
  await refused(gzipSync(text), NotAnArchiveError, /not a tar archive/);
  await refused(new Uint8Array(0), NotAnArchiveError, /not a gzip-compressed tar archive/);
});

Deno.test("resolvesInside follows the archive's own links like the kernel", () => {
  const links = new Map([["a/b", ".."], ["l", "."], ["d", "a/b"]]);
  assert(resolvesInside("x", "a/b/c", links)); // a/b -> root, then c
  assert(!resolvesInside("x", "a/b/..", links)); // root/.. leaves
  assert(!resolvesInside("x", "l/../y", links));
  assert(resolvesInside("x", "d/a/b", links));
  assert(resolvesInside("a/y", "../a", links));
  assert(!resolvesInside("a/y", "../../z", links));
  const loop = new Map([["p", "q"], ["q", "p"]]);
  assert(!resolvesInside("x", "p", loop), "a loop is refused");
});

// --- issue 11: links judged where they will live, bombs, clashes, image members, names ---

Deno.test("hostile: env/ links into a neighbouring environment (inside the archive, outside env/)", async () => {
  // env/ becomes environments/<name>/, so '../victim/image.sif' would be environments/victim.
  for (
    const evil of [
      [...ok, { name: "env/image.sif", type: "symlink", target: "../victim/image.sif" }],
      [...ok, { name: "env/persist", type: "symlink", target: "../victim/persist" }],
      [
        ...ok,
        { name: "env/hop", type: "symlink", target: "persist" },
        { name: "env/persist", type: "symlink", target: "../victim" },
      ],
    ] as Crafted[][]
  ) {
    await refused(
      craftArchive(evil),
      UnsafeMemberError,
      /points outside the environment folder/,
    );
  }
});

Deno.test("hostile: env/ itself a link to a folder whose links climb two levels", async () => {
  // x/sub/a -> ../../y is inside the archive; moved into place as env/, it would name
  // environments/y.
  const evil: Crafted[] = [
    { name: "x/sub/keep", data: "1" },
    { name: "x/sub/a", type: "symlink", target: "../../y" },
    { name: "env", type: "symlink", target: "x" },
  ];
  await refused(craftArchive(evil), UnsafeMemberError, /'env' is a symlink; it must be a folder/);
});

Deno.test("env/ links that stay inside env/ (a venv's lib64 -> lib) are kept", async () => {
  const members: Crafted[] = [
    ...ok,
    { name: "env/persist/venv/lib/x.py", data: "X = 1\n" },
    { name: "env/persist/venv/lib64", type: "symlink", target: "lib" },
  ];
  const { root, tmpDir, file } = await sandbox(craftArchive(members));
  try {
    const got = await extractVerified(file, { tmpDir });
    assertEquals(await Deno.readLink(join(got.dir, "env/persist/venv/lib64")), "lib");
    await got.cleanup();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hostile: hard links in or into env/", async () => {
  await refused(
    craftArchive([...ok, { name: "env/persist/tar", type: "hardlink", target: "image.tar" }]),
    UnsafeMemberError,
    /an environment folder holds no hard links/,
  );
  await refused(
    craftArchive([...ok, { name: "copy", type: "hardlink", target: "env/config.yaml" }]),
    UnsafeMemberError,
    /an environment folder holds no hard links/,
  );
});

/** Bytes under `dir` right now (synchronous: called from the progress callback). */
function treeBytes(dir: string): number {
  let n = 0;
  try {
    for (const e of Deno.readDirSync(dir)) {
      const p = join(dir, e.name);
      const st = Deno.lstatSync(p);
      n += st.isDirectory ? treeBytes(p) : st.size;
    }
  } catch { /* removed meanwhile */ }
  return n;
}

Deno.test("hostile: decompression bomb (declares 1 KB, holds 10 MB of zeros) writes nothing", async () => {
  const bomb = "\0".repeat(10 * 1024 * 1024);
  // 1 MB of random text after the bomb keeps the compressed stream long enough to sample the
  // disk while the bomb is being unpacked (the old code peaked at 11 MB here).
  let noise = "";
  const buf = new Uint8Array(48 * 1024);
  for (let n = 0; n < 768 * 1024; n += buf.length) {
    noise += btoa(String.fromCharCode(...crypto.getRandomValues(buf)));
  }
  const members: Crafted[] = [
    ...ok,
    { name: "env/persist/bomb", data: bomb },
    { name: "noise", data: noise },
  ];
  const manifest = manifestFor(members) as { members: Record<string, { size: number }> };
  manifest.members["env/persist/bomb"].size = 1024;
  const bytes = craftArchive(members, { manifest });
  assert(bytes.length < 4 * 1024 * 1024, `the crafted file stays small (${bytes.length})`);
  const { root, tmpDir, file } = await sandbox(bytes);
  let peak = 0;
  try {
    await assert.rejects(
      extractVerified(file, {
        tmpDir,
        onProgress: () => {
          peak = Math.max(peak, treeBytes(tmpDir));
        },
      }),
      (e: unknown) =>
        e instanceof ChecksumMismatchError &&
        /'env\/persist\/bomb' holds 10485760 bytes, but manifest\.json lists 1024 bytes/.test(
          e.message,
        ),
    );
    assert(peak < 64 * 1024, `at most a few KB were written, not the bomb (peak ${peak})`);
    assertEquals(await listTree(root), BEFORE);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an archive larger than the free space is refused before anything is written", async () => {
  const { root, tmpDir, file } = await sandbox(craftArchive(ok));
  try {
    let asked = "";
    await assert.rejects(
      extractVerified(file, {
        tmpDir,
        freeSpace: (d) => {
          asked = d;
          return 10;
        },
      }),
      /not enough free space to import archive\.tar\.gz: it unpacks to \d+ bytes/,
    );
    assertEquals(asked, tmpDir);
    assertEquals(await listTree(root), BEFORE);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hostile: a file and a folder of the same name is a clear refusal", async () => {
  await refused(
    craftArchive([...ok, { name: "env/a/b", data: "1" }, { name: "env/a", data: "2" }]),
    NameClashError,
    /member 'env\/a' is a file, but earlier members are inside a folder of that name/,
  );
  await refused(
    craftArchive([...ok, { name: "env/x/y", data: "1" }, {
      name: "env/x",
      type: "symlink",
      target: ".",
    }]),
    NameClashError,
    /member 'env\/x' is a symlink/,
  );
});

Deno.test("hostile: manifest's image path names no verified member", async () => {
  for (
    const [image, why] of [
      [
        { sif: "../../etc/hostname" },
        /image\.sif '\.\.\/\.\.\/etc\/hostname' is not a verified file/,
      ],
      [{ docker_archive: "/etc/hostname" }, /image\.docker_archive '\/etc\/hostname' is not/],
      [{ sif: "link.sif" }, /image\.sif 'link\.sif' is not a verified file/],
      [{ docker_archive: "env/config.yaml" }, /image\.docker_archive 'env\/config\.yaml' is not/],
    ] as const
  ) {
    const members: Crafted[] = [...ok, { name: "link.sif", type: "symlink", target: "image.tar" }];
    const m = manifestFor(members) as { image: Record<string, unknown> };
    Object.assign(m.image, image);
    await refused(craftArchive(members, { manifest: m }), UnsafeMemberError, why);
  }
});

Deno.test("hostile: control characters in member names never reach the message", async () => {
  const nasty = "\x1b[2J\x1b[31mowned\rhint: run rm -rf ~\n\x07";
  for (
    const evil of [
      [...ok, { name: `../${nasty}`, data: "x" }],
      [...ok, { name: `env/${nasty}`, data: "x" }], // unlisted
      [...ok, { name: `env/${nasty}`, type: "symlink", target: `../../${nasty}` }],
    ] as Crafted[][]
  ) {
    const { root, tmpDir, file } = await sandbox(
      craftArchive(evil, { listed: ok }),
    );
    try {
      await assert.rejects(extractVerified(file, { tmpDir }), (e: unknown) => {
        const msg = (e as Error).message;
        // deno-lint-ignore no-control-regex
        assert(!/[\x00-\x1f\x7f]/.test(msg), `no control character in: ${JSON.stringify(msg)}`);
        assert.match(msg, /\\x1b\[2J\\x1b\[31mowned\\rhint: run rm -rf ~\\n\\x07/);
        return true;
      });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("hostile: an archive swapped for a bomb between the two passes writes nothing of the bomb", async () => {
  const good = "g".repeat(1024);
  const listed: Crafted[] = [...ok, { name: "env/persist/data", data: good }];
  const manifest = manifestFor(listed);
  const bomb: Crafted[] = [...ok, {
    name: "env/persist/data",
    data: "\0".repeat(10 * 1024 * 1024),
  }];
  const { root, tmpDir, file } = await sandbox(craftArchive(listed, { manifest }));
  const swapped = join(root, "swapped.tar.gz");
  await Deno.writeFile(swapped, craftArchive(bomb, { manifest }));
  let done = false;
  try {
    await assert.rejects(
      extractVerified(file, {
        tmpDir,
        onProgress: () => {
          // The first pass has the good file open; the second opens the path again.
          if (!done) Deno.renameSync(swapped, file);
          done = true;
        },
      }),
      (e: unknown) =>
        e instanceof ChecksumMismatchError &&
        /size mismatch: member 'env\/persist\/data' holds 10485760 bytes, but manifest\.json lists 1024 bytes \(nothing of it was written\)/
          .test((e as Error).message),
    );
    assertEquals(await listTree(root), BEFORE);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
