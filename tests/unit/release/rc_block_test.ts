import assert, { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { join } from "node:path";
import {
  BLOCK_BEGIN,
  BLOCK_END,
  editRcFile,
  hasBlock,
  rcCandidates,
  rcFileFor,
  removeBlock,
  renderBlock,
  shellPath,
  upsertBlock,
  utf8ByteString,
} from "../../../src/release/rc_block.ts";
import { tempDir as moduleTempDir } from "../../fakes/tmp.ts";

const HOME = "/home/ann";
const bash = renderBlock("bash", { installDir: `${HOME}/.local/bin`, home: HOME });
const bash2 = renderBlock("bash", { installDir: "/opt/venvoy/bin", home: HOME });

Deno.test("renderBlock: bash/zsh PATH + eval, fish PATH + source, between the markers", () => {
  assertEquals(
    bash,
    [
      BLOCK_BEGIN,
      "# Added by the venvoy installer; `venvoy uninstall` removes this block.",
      'case ":$PATH:" in *":$HOME/.local/bin:"*) ;; *) export PATH="$HOME/.local/bin:$PATH" ;; esac',
      'if command -v venvoy >/dev/null 2>&1; then eval "$(venvoy shell-init bash)"; fi',
      BLOCK_END,
      "",
    ].join("\n"),
  );
  assert(renderBlock("zsh", { installDir: "/opt/v", home: HOME }).includes("shell-init zsh"));
  assertEquals(
    renderBlock("fish", { installDir: `${HOME}/bin`, home: HOME }).split("\n").slice(2, 8),
    [
      'if not contains -- "$HOME/bin" $PATH',
      '    set -gx PATH "$HOME/bin" $PATH',
      "end",
      "if command -q venvoy",
      "    venvoy shell-init fish | source",
      "end",
    ],
  );
});

Deno.test("shellPath: $HOME for the home folder, as is elsewhere, refuses quoting trouble", () => {
  assertEquals(shellPath("/home/ann/.local/bin", "/home/ann/"), "$HOME/.local/bin");
  assertEquals(shellPath("/home/ann", "/home/ann"), "$HOME");
  assertEquals(shellPath("/home/annex/bin", "/home/ann"), "/home/annex/bin");
  assertEquals(shellPath("/opt/my tools/bin", "/home/ann"), "/opt/my tools/bin");
  for (const bad of ['/opt/"q"', "/opt/$x", "/opt/`x`", "/opt/a\\b", "/opt/a\nb"]) {
    throws(() => shellPath(bad, HOME), /cannot write a shell startup line/, bad);
  }
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
  `# mentions ${BLOCK_BEGIN} inside a line\n`,
];

Deno.test("add then remove gives back every byte, for any file content", () => {
  for (const c of CONTENTS) {
    const added = upsertBlock(c, bash);
    assert(hasBlock(added), JSON.stringify(c));
    assertEquals(removeBlock(added), c, JSON.stringify(c));
  }
});

Deno.test("adding: a blank line before the block, or the newline the last line lacked", () => {
  assertEquals(upsertBlock("", bash), bash);
  assertEquals(upsertBlock("x\n", bash), `x\n\n${bash}`);
  assertEquals(upsertBlock("x", bash), `x\n${bash}`);
});

Deno.test("adding again changes nothing; another block replaces it in place", () => {
  for (const c of CONTENTS) {
    const once = upsertBlock(c, bash);
    assertEquals(upsertBlock(once, bash), once);
    const other = upsertBlock(once, bash2);
    assertEquals(other, upsertBlock(c, bash2));
    assertEquals(removeBlock(other), c);
  }
  const middle = `a\n${bash}z\n`;
  assertEquals(upsertBlock(middle, bash2), `a\n${bash2}z\n`);
});

Deno.test("removing keeps what the user wrote after the block, and never joins lines", () => {
  assertEquals(removeBlock(`x\n\n${bash}y\n`), "x\ny\n");
  assertEquals(removeBlock(`x\n${bash}y\n`), "x\ny\n");
  assertEquals(removeBlock(`${bash}y`), "y");
  assertEquals(removeBlock(`x\n\n${bash}\n${bash}`), "x\n");
  const edited = `x\n\n${BLOCK_BEGIN}\nuser edit\n${BLOCK_END}`;
  assertEquals(removeBlock(edited), "x\n");
  assertEquals(removeBlock("nothing of venvoy\n"), "nothing of venvoy\n");
});

Deno.test("a block that starts and never ends is an error, never removal to the end", () => {
  throws(() => removeBlock(`x\n${BLOCK_BEGIN}\nrest of the file\n`), /never ends/);
  throws(() => upsertBlock(`${BLOCK_BEGIN}\n`, bash), /never ends/);
});

Deno.test("rcFileFor: bashrc (bash_profile on macOS), ZDOTDIR, XDG fish conf.d", () => {
  const none = () => undefined;
  assertEquals(rcFileFor("bash", { home: HOME, os: "linux", env: none }), `${HOME}/.bashrc`);
  assertEquals(rcFileFor("bash", { home: HOME, os: "darwin", env: none }), `${HOME}/.bash_profile`);
  assertEquals(rcFileFor("zsh", { home: HOME, os: "linux", env: none }), `${HOME}/.zshrc`);
  const env = (n: string) =>
    ({ ZDOTDIR: "/z", XDG_CONFIG_HOME: "/cfg" } as Record<string, string>)[n];
  assertEquals(rcFileFor("zsh", { home: HOME, os: "linux", env }), "/z/.zshrc");
  assertEquals(rcFileFor("fish", { home: HOME, os: "linux", env }), "/cfg/fish/conf.d/venvoy.fish");
  const all = rcCandidates({ home: HOME, env });
  for (const s of ["bash", "zsh", "fish"] as const) {
    for (const os of ["linux", "darwin"]) {
      assert(all.includes(rcFileFor(s, { home: HOME, os, env })));
    }
  }
  assertEquals(new Set(all).size, all.length);
});

async function tempDir(): Promise<string> {
  return await moduleTempDir("venvoy-rc-");
}

Deno.test("editRcFile creates a missing file (and its folder), then leaves it untouched", async () => {
  const dir = await tempDir();
  try {
    const rc = join(dir, "fish", "conf.d", "venvoy.fish");
    assertEquals(await editRcFile(rc, (t) => upsertBlock(t, bash)), "written");
    assertEquals(await Deno.readTextFile(rc), bash);
    const before = await Deno.stat(rc);
    assertEquals(await editRcFile(rc, (t) => upsertBlock(t, bash)), "unchanged");
    assertEquals((await Deno.stat(rc)).mtime, before.mtime);
    assertEquals(await editRcFile(rc, removeBlock, { deleteIfEmpty: true }), "removed");
    assertEquals(await Deno.stat(rc).catch(() => null), null);
    assertEquals(await editRcFile(rc, removeBlock, { deleteIfEmpty: true }), "unchanged");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("editRcFile keeps the mode, leaves no temporary file, and edits through a link", async () => {
  const dir = await tempDir();
  try {
    const real = join(dir, "dotfiles", "bashrc");
    await Deno.mkdir(join(dir, "dotfiles"));
    await Deno.writeTextFile(real, "x\n");
    await Deno.chmod(real, 0o600);
    const link = join(dir, ".bashrc");
    await Deno.symlink(real, link);
    assertEquals(await editRcFile(link, (t) => upsertBlock(t, bash)), "written");
    assert((await Deno.lstat(link)).isSymlink);
    assertEquals(await Deno.readTextFile(real), `x\n\n${bash}`);
    assertEquals((await Deno.stat(real)).mode! & 0o777, 0o600);
    assertEquals((await Array.fromAsync(Deno.readDir(join(dir, "dotfiles")))).length, 1);
    // Emptied through a link: the link's file is emptied, never deleted.
    await Deno.writeTextFile(real, bash);
    assertEquals(await editRcFile(link, removeBlock, { deleteIfEmpty: true }), "written");
    assertEquals(await Deno.readTextFile(real), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("editRcFile works on bytes: what is not UTF-8 comes back exactly", async () => {
  const dir = await tempDir();
  try {
    const rc = join(dir, ".bashrc");
    // Latin-1 and a stray byte: decoding as UTF-8 turned these into U+FFFD.
    const mine = new Uint8Array([0x23, 0x20, 0xe9, 0x74, 0xe9, 0x0a, 0xff, 0xfe, 0x80, 0x0a]);
    await Deno.writeFile(rc, mine);
    assertEquals(await editRcFile(rc, (t) => upsertBlock(t, bash)), "written");
    const withBlock = await Deno.readFile(rc);
    assertEquals(withBlock.slice(0, mine.length), mine);
    assertEquals(await editRcFile(rc, removeBlock, { deleteIfCreated: true }), "written");
    assertEquals(await Deno.readFile(rc), mine);
    // A block for a folder with a non-ASCII name goes in as UTF-8.
    const jose = renderBlock("bash", { installDir: "/home/josé/bin", home: HOME });
    await editRcFile(rc, (t) => upsertBlock(t, utf8ByteString(jose)));
    assert(new TextDecoder().decode(await Deno.readFile(rc)).includes("/home/josé/bin"));
    await editRcFile(rc, removeBlock);
    assertEquals(await Deno.readFile(rc), mine);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a block with CRLF line ends is found, replaced in place, and removed", () => {
  const crlf = (s: string) => s.replaceAll("\n", "\r\n");
  const converted = crlf(`x\n\n${bash}`);
  assert(hasBlock(converted));
  assertEquals(removeBlock(converted), "x\r\n");
  assertEquals(upsertBlock(converted, bash2), `x\r\n\r\n${bash2}`);
  assertEquals(removeBlock(crlf(`a\n${bash}z\n`)), "a\r\nz\r\n");
  assertEquals(removeBlock(crlf(bash)), "");
  // An end marker with CR at the very end of the file.
  assertEquals(removeBlock(`x\n\n${bash.trimEnd()}\r`), "x\n");
});
