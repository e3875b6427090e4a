/**
 * install.sh writes the startup block in bash; uninstall removes it in TypeScript. These
 * tests hold the two to each other: the same block text, the same file, the same bytes.
 */
import assert, { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createdByInstaller,
  editRcFile,
  rcFileFor,
  removeBlock,
  renderBlock,
  type ShellName,
  upsertBlock,
} from "../../../src/release/rc_block.ts";
import { assetName, RELEASE_TARGETS } from "../../../src/release/location.ts";
import { tempDir } from "../../fakes/tmp.ts";

const INSTALL_SH = fileURLToPath(new URL("../../../install.sh", import.meta.url));

/** Sources install.sh (which then does not run main) and runs `script` in bash. */
async function sh(script: string, env: Record<string, string> = {}, args: string[] = []) {
  const res = await new Deno.Command("bash", {
    args: ["-c", `source "$0" || exit 99\n${script}`, INSTALL_SH, ...args],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: res.code, stdout: dec.decode(res.stdout), stderr: dec.decode(res.stderr) };
}

Deno.test("sourcing install.sh runs nothing", async () => {
  const res = await sh("echo sourced", { HOME: "/nonexistent" });
  assertEquals(res, { code: 0, stdout: "sourced\n", stderr: "" });
});

Deno.test("install.sh's block is renderBlock's, for each shell and folder", async () => {
  const home = "/home/ann";
  for (const shell of ["bash", "zsh", "fish"] as ShellName[]) {
    for (const dir of [`${home}/.local/bin`, "/opt/my tools/bin", home, "/home/annex/bin"]) {
      const res = await sh('rc_block "$1" "$2"; echo', { HOME: home }, [shell, dir]);
      assertEquals(res.stdout, renderBlock(shell, { installDir: dir, home }), `${shell} ${dir}`);
    }
  }
  const bad = await sh('rc_block bash "$1"', { HOME: home }, ["/opt/$x"]);
  assertEquals(bad.code, 1);
});

Deno.test("install.sh picks the startup file rcFileFor picks, on Linux and macOS", async () => {
  const cases: [Record<string, string>, string][] = [
    [{ HOME: "/h" }, "linux"],
    [{ HOME: "/h", ZDOTDIR: "/z", XDG_CONFIG_HOME: "/c" }, "linux"],
    [{ HOME: "/h" }, "darwin"],
  ];
  for (const [env, os] of cases) {
    const fake = os === "darwin" ? "uname() { echo Darwin; }" : "uname() { echo Linux; }";
    for (const shell of ["bash", "zsh", "fish"] as ShellName[]) {
      const res = await sh(`${fake}\nrc_file_for "$1"`, env, [shell]);
      const expected = rcFileFor(shell, { home: env.HOME, os, env: (n) => env[n] });
      assertEquals(res.stdout, `${expected}\n`, `${shell} ${os} ${JSON.stringify(env)}`);
    }
  }
  assertEquals((await sh("rc_file_for tcsh", { HOME: "/h" })).code, 1);
});

const CONTENTS = [
  "",
  "\n",
  "x",
  "x\n",
  "x\n\n",
  "alias ll='ls -l'\nexport EDITOR=vi\n",
  "no newline at the end",
  "windows\r\nline ends\r\n",
  "a\n# >>> venvoy >>>\nold block\n# <<< venvoy <<<\nz\n",
  "a\n# >>> venvoy >>>\nold block at the end, no newline\n# <<< venvoy <<<",
  // A file converted to CRLF after the install: the block is still found, not added again.
  "x\r\n\r\n# >>> venvoy >>>\r\nold block\r\n# <<< venvoy <<<\r\n",
  "x\r\n# >>> venvoy >>>\r\nold\r\n# <<< venvoy <<<\r\nz\r\n",
];

Deno.test("install.sh's upsert_block writes upsertBlock's bytes; uninstall's removal undoes it", async () => {
  const dir = await tempDir("venvoy-install-sh-");
  try {
    const rc = join(dir, ".bashrc");
    const home = "/home/ann";
    const blockA = renderBlock("bash", { installDir: `${home}/.local/bin`, home });
    const blockB = renderBlock("bash", { installDir: "/opt/v", home });
    const run = (block: string) =>
      sh('upsert_block "$1" "$2"', { HOME: home }, [rc, block.replace(/\n$/, "")]);
    for (const c of CONTENTS) {
      const what = JSON.stringify(c);
      await Deno.writeTextFile(rc, c);
      const first = await run(blockA);
      assertEquals(first.code, 0, first.stderr);
      assertEquals(first.stdout, c.includes("# >>> venvoy") ? "updated\n" : "added\n", what);
      const written = await Deno.readTextFile(rc);
      assertEquals(written, upsertBlock(c, blockA), what);
      assertEquals((await run(blockA)).stdout, "unchanged\n", what);
      assertEquals(await Deno.readTextFile(rc), written, what);
      assertEquals((await run(blockB)).stdout, "updated\n", what);
      assertEquals(await Deno.readTextFile(rc), upsertBlock(c, blockB), what);
      if (!c.includes("# >>> venvoy")) assertEquals(removeBlock(await Deno.readTextFile(rc)), c);
    }
    assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name), [".bashrc"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install.sh's upsert_block: a missing file and folder are created; links are followed; a broken block is left alone", async () => {
  const dir = await tempDir("venvoy-install-sh-");
  try {
    // A file that did not exist gets the note that the installer created it.
    const block = renderBlock("fish", { installDir: "/opt/v", home: dir, created: true });
    const fish = join(dir, "config", "fish", "conf.d", "venvoy.fish");
    const res = await sh('upsert_block "$1" "$2"', { HOME: dir }, [fish, block.trimEnd()]);
    assertEquals(res.stdout, "added\n");
    assertEquals(await Deno.readTextFile(fish), block);

    await Deno.writeTextFile(join(dir, "real-zshrc"), "setopt x\n");
    await Deno.chmod(join(dir, "real-zshrc"), 0o600);
    await Deno.symlink(join(dir, "real-zshrc"), join(dir, ".zshrc"));
    const plain = renderBlock("fish", { installDir: "/opt/v", home: dir });
    await sh('upsert_block "$1" "$2"', { HOME: dir }, [join(dir, ".zshrc"), plain.trimEnd()]);
    assert((await Deno.lstat(join(dir, ".zshrc"))).isSymlink);
    assertEquals(await Deno.readTextFile(join(dir, "real-zshrc")), `setopt x\n\n${plain}`);
    assertEquals((await Deno.stat(join(dir, "real-zshrc"))).mode! & 0o777, 0o600);

    const broken = "a\n# >>> venvoy >>>\nno end marker\n";
    await Deno.writeTextFile(join(dir, ".bashrc"), broken);
    const b = await sh('upsert_block "$1" "$2"', { HOME: dir }, [join(dir, ".bashrc"), "x"]);
    assertEquals(b.code, 1);
    assert(b.stderr.includes("left alone"), b.stderr);
    assertEquals(await Deno.readTextFile(join(dir, ".bashrc")), broken);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install.sh's detect_target names a release target, Rosetta included", async () => {
  const cases: [string, string, string, string][] = [
    ["Linux", "x86_64", "0", "x86_64-unknown-linux-gnu"],
    ["Linux", "aarch64", "0", "aarch64-unknown-linux-gnu"],
    ["Darwin", "arm64", "0", "aarch64-apple-darwin"],
    ["Darwin", "x86_64", "0", "x86_64-apple-darwin"],
    ["Darwin", "x86_64", "1", "aarch64-apple-darwin"],
  ];
  for (const [os, arch, rosetta, target] of cases) {
    const fakes = `uname() { case $1 in -s) echo ${os};; -m) echo ${arch};; esac; }
      sysctl() { echo ${rosetta}; }
      ldd() { echo "ldd (GNU libc) 2.36"; }`;
    const res = await sh(`${fakes}\ndetect_target`, { HOME: "/h" });
    assertEquals(res.stdout, `${target}\n`, `${os} ${arch}`);
    assert((RELEASE_TARGETS as readonly string[]).includes(target));
  }
  const refused: [string, string, RegExp][] = [
    ["MINGW64_NT-10.0", "x86_64", /use install.ps1/],
    ["Linux", "armv7l", /no venvoy release for the armv7l processor/],
    ["FreeBSD", "amd64", /no venvoy release for FreeBSD/],
  ];
  for (const [os, arch, message] of refused) {
    const res = await sh(
      `uname() { case $1 in -s) echo ${os};; -m) echo ${arch};; esac; }\ndetect_target`,
      { HOME: "/h" },
    );
    assertEquals(res.code, 1);
    assert(message.test(res.stderr), res.stderr);
  }
  const musl = await sh(
    `uname() { case $1 in -s) echo Linux;; -m) echo x86_64;; esac; }
     ldd() { echo "musl libc (x86_64)"; }
     detect_target`,
    { HOME: "/h" },
  );
  assert(/musl/.test(musl.stderr) && musl.code === 1, musl.stderr);
});

Deno.test("install.sh's expected_sum reads both SHA256SUMS modes and misses cleanly", async () => {
  const dir = await tempDir("venvoy-install-sh-");
  try {
    const name = assetName("x86_64-unknown-linux-gnu");
    const sums = join(dir, "SHA256SUMS");
    const A = "A".repeat(64);
    await Deno.writeTextFile(sums, `${"b".repeat(64)}  ${name}-other\n${A} *${name}\n`);
    assertEquals(
      (await sh('expected_sum "$1" "$2"', {}, [sums, name])).stdout,
      `${"a".repeat(64)}\n`,
    );
    assertEquals((await sh('expected_sum "$1" "$2"', {}, [sums, "venvoy-x"])).code, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** install.sh's upsert_block on FILE with `block`. */
async function installBlock(file: string, block: string) {
  const res = await sh('upsert_block "$1" "$2"', { HOME: "/home/ann" }, [file, block.trimEnd()]);
  assertEquals(res.code, 0, res.stderr);
  return res.stdout.trim();
}

Deno.test("install, then uninstall's edit: a file that was empty stays, one the installer made goes", async () => {
  const dir = await tempDir("venvoy-install-sh-");
  try {
    const block = renderBlock("bash", { installDir: "/opt/v", home: "/home/ann" });
    const empty = join(dir, ".bashrc");
    await Deno.writeFile(empty, new Uint8Array());
    assertEquals(await installBlock(empty, block), "added");
    assertEquals(await Deno.readTextFile(empty), block);
    assertEquals(await editRcFile(empty, removeBlock, { deleteIfCreated: true }), "written");
    assertEquals((await Deno.stat(empty)).size, 0, "the empty file is there, still empty");

    const missing = join(dir, ".zshrc");
    assertEquals(await installBlock(missing, block), "added");
    assert(createdByInstaller(await Deno.readTextFile(missing)));
    // Updating (another folder, or after a CRLF conversion) keeps the note.
    const other = renderBlock("bash", { installDir: "/opt/w", home: "/home/ann" });
    await Deno.writeTextFile(missing, (await Deno.readTextFile(missing)).replaceAll("\n", "\r\n"));
    assertEquals(await installBlock(missing, other), "updated");
    assertEquals(
      await Deno.readTextFile(missing),
      renderBlock("bash", {
        installDir: "/opt/w",
        home: "/home/ann",
        created: true,
      }),
    );
    assertEquals(await editRcFile(missing, removeBlock, { deleteIfCreated: true }), "removed");
    assertEquals(await Deno.stat(missing).catch(() => null), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("after a CRLF conversion, reinstalling adds no second block and uninstall leaves none", async () => {
  const dir = await tempDir("venvoy-install-sh-");
  try {
    const rc = join(dir, ".bashrc");
    const block = renderBlock("bash", { installDir: "/opt/v", home: "/home/ann" });
    await Deno.writeTextFile(rc, "alias ll='ls -l'\n");
    assertEquals(await installBlock(rc, block), "added");
    // An editor (or unix2dos) converts the whole file.
    await Deno.writeTextFile(rc, (await Deno.readTextFile(rc)).replaceAll("\n", "\r\n"));
    assertEquals(await installBlock(rc, block), "updated");
    const text = await Deno.readTextFile(rc);
    assertEquals(text.split("# >>> venvoy >>>").length - 1, 1, "one block, not two");
    assertEquals(await editRcFile(rc, removeBlock, { deleteIfCreated: true }), "written");
    assertEquals(await Deno.readTextFile(rc), "alias ll='ls -l'\r\n");
    // Two blocks with either line ending (written by an older installer): both go.
    const two = `a\r\n\r\n${block.replaceAll("\n", "\r\n")}b\n\n${block}`;
    assertEquals(removeBlock(two), "a\r\nb\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
