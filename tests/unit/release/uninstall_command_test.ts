import { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import { RecordingRunner } from "../../fakes/runner.ts";
import { statePaths } from "../../../src/env/paths.ts";
import { uninstall, type UninstallDeps } from "../../../src/commands/uninstall_action.ts";
import type { CommandContext } from "../../../src/commands/context.ts";
import { renderBlock, upsertBlock } from "../../../src/release/rc_block.ts";
import { UsageError } from "../../../src/ui/errors.ts";
import { ownerKey } from "../../../src/env/owner.ts";
import { tempDir } from "../../fakes/tmp.ts";

const BASHRC = "# the user's own\nalias ll='ls -l'\n";
const ZSHRC = "setopt autocd"; // no final newline

interface Home {
  root: string;
  home: string;
  bin: string;
  linkDir: string;
  env: Record<string, string>;
}

/** A home as install.sh leaves it, plus state, snapshots, a SIF and a /usr/local/bin link. */
async function installedHome(): Promise<Home> {
  const root = await tempDir("venvoy-uninstall-");
  const home = join(root, "home");
  const bin = join(home, ".local", "bin");
  const linkDir = join(root, "usr-local-bin");
  await Deno.mkdir(bin, { recursive: true });
  await Deno.mkdir(linkDir);
  await Deno.writeTextFile(join(bin, "venvoy"), "#!/bin/sh\necho 0.1.0\n", { mode: 0o755 });
  await Deno.writeTextFile(join(bin, "other-tool"), "keep me\n");
  await Deno.symlink(join(bin, "venvoy"), join(linkDir, "venvoy"));
  await Deno.symlink(join(bin, "other-tool"), join(linkDir, "other-tool"));
  const block = (s: "bash" | "zsh") => renderBlock(s, { installDir: bin, home });
  await Deno.writeTextFile(join(home, ".bashrc"), upsertBlock(BASHRC, block("bash")));
  await Deno.writeTextFile(join(home, ".zshrc"), upsertBlock(ZSHRC, block("zsh")));
  await Deno.writeTextFile(join(home, ".profile"), "# untouched\n");
  const envDir = join(home, ".venvoy", "environments", "demo");
  await Deno.mkdir(envDir, { recursive: true });
  await Deno.writeTextFile(join(envDir, "image.sif"), "sif");
  await Deno.writeTextFile(join(envDir, "config.yaml"), "name: demo\n");
  await Deno.mkdir(join(home, "venvoy-projects", "demo"), { recursive: true });
  await Deno.writeTextFile(join(home, "venvoy-projects", "demo", "snap.yml"), "x\n");
  // Where the single-file build unpacked itself, beside another tool's cache.
  await Deno.mkdir(join(home, ".cache", "venvoy"), { recursive: true });
  await Deno.writeTextFile(join(home, ".cache", "venvoy", "rest-0123456789abcdef.mjs"), "x");
  await Deno.mkdir(join(home, ".cache", "pip"));
  const tmp = join(root, "tmp");
  await Deno.mkdir(tmp);
  const env = { HOME: home, VENVOY_LINK_DIR: linkDir, TMPDIR: tmp };
  return { root, home, bin, linkDir, env };
}

function context(h: Home, runner = new RecordingRunner({ env: h.env })): CommandContext {
  return { runner, engine: null, debug: false, paths: statePaths((n) => h.env[n]) };
}

/** Every path under root, with file contents and link targets: to compare before and after. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string) {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isSymlink) out[p] = `-> ${await Deno.readLink(p)}`;
      else if (e.isDirectory) {
        out[p] = "dir";
        await walk(p);
      } else out[p] = await Deno.readTextFile(p);
    }
  }
  await walk(root);
  return out;
}

const NO_SELF: UninstallDeps = { self: null };

Deno.test("uninstall --dry-run changes nothing", async () => {
  const h = await installedHome();
  try {
    const before = await snapshot(h.root);
    await uninstall(context(h), { dryRun: true }, NO_SELF);
    assertEquals(await snapshot(h.root), before);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("uninstall without a terminal and without --force refuses, changing nothing", async () => {
  const h = await installedHome();
  try {
    const before = await snapshot(h.root);
    await rejects(
      uninstall(context(h), {}, { ...NO_SELF, interactive: false }),
      (e: UsageError) =>
        e instanceof UsageError && e.exitCode === 2 && /no terminal to ask on/.test(e.message) &&
        /--force/.test(e.hint ?? ""),
    );
    assertEquals(await snapshot(h.root), before);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("uninstall asks first; no is no", async () => {
  const h = await installedHome();
  try {
    const before = await snapshot(h.root);
    const asked: string[] = [];
    await uninstall(context(h), {}, {
      ...NO_SELF,
      interactive: true,
      ask: (q) => (asked.push(q), Promise.resolve(false)),
    });
    assertEquals(asked, ["Remove all of this?"]);
    assertEquals(await snapshot(h.root), before);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("uninstall --force removes venvoy and leaves the rc files as they were", async () => {
  const h = await installedHome();
  try {
    await uninstall(context(h), { force: true }, NO_SELF);
    const left = await snapshot(h.root);
    assertEquals(left, {
      [h.home]: "dir",
      [join(h.home, ".bashrc")]: BASHRC,
      [join(h.home, ".zshrc")]: ZSHRC,
      [join(h.home, ".profile")]: "# untouched\n",
      [join(h.home, ".local")]: "dir",
      [h.bin]: "dir",
      [join(h.bin, "other-tool")]: "keep me\n",
      [join(h.home, ".cache")]: "dir",
      [join(h.home, ".cache", "pip")]: "dir",
      [h.linkDir]: "dir",
      [join(h.linkDir, "other-tool")]: `-> ${join(h.bin, "other-tool")}`,
      [join(h.root, "tmp")]: "dir",
    });
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("uninstall after yes removes the same; the running binary is found by selfPath", async () => {
  const h = await installedHome();
  try {
    // The running binary lives elsewhere; the installed one is removed too.
    const elsewhere = join(h.root, "opt-venvoy");
    await Deno.writeTextFile(elsewhere, "#!/bin/sh\n");
    await uninstall(context(h), {}, {
      self: elsewhere,
      interactive: true,
      ask: () => Promise.resolve(true),
    });
    assertEquals(await Deno.stat(elsewhere).catch(() => null), null);
    assertEquals(await Deno.stat(join(h.bin, "venvoy")).catch(() => null), null);
    assertEquals(await Deno.readTextFile(join(h.home, ".bashrc")), BASHRC);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("uninstall --keep-projects --keep-images keeps the snapshots and the SIF", async () => {
  const h = await installedHome();
  try {
    await uninstall(context(h), { force: true, keepProjects: true, keepImages: true }, NO_SELF);
    const left = await snapshot(h.home);
    const sif = join(h.home, ".venvoy", "environments", "demo", "image.sif");
    assertEquals(left[sif], "sif");
    assertEquals(left[join(h.home, ".venvoy", "environments", "demo", "config.yaml")], undefined);
    assertEquals(left[join(h.home, "venvoy-projects", "demo", "snap.yml")], "x\n");
    assertEquals(left[join(h.home, ".bashrc")], BASHRC);
    assertEquals(left[join(h.bin, "venvoy")], undefined);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

/** A fake podman for a home whose env 'demo' recorded image `recorded`. */
function podman(
  h: Home,
  answers: { images: unknown[]; inspect: unknown | null; ps: unknown[]; byId?: unknown[] },
) {
  const runner = new RecordingRunner({ env: h.env, paths: { podman: "/usr/bin/podman" } })
    .on(["/usr/bin/podman", "version"], {
      stdout: JSON.stringify({ Client: { Version: "4.3.1" } }),
    })
    .on(["/usr/bin/podman", "ps"], { stdout: JSON.stringify(answers.ps) })
    .on(["/usr/bin/podman", "images"], { stdout: JSON.stringify(answers.images) })
    .on(["/usr/bin/podman", "rm", "-f"], {})
    .on(["/usr/bin/podman", "image", "rm"], {})
    .on(
      ["/usr/bin/podman", "image", "inspect"],
      answers.inspect
        ? { stdout: JSON.stringify([answers.inspect]) }
        : { code: 125, stderr: "Error: image not known" },
    );
  // Images the owner filter listed are inspected by ID: their own labels decide.
  for (const i of (answers.byId ?? []) as { Id: string }[]) {
    runner.on(["/usr/bin/podman", "image", "inspect", `sha256:${i.Id}`], {
      stdout: JSON.stringify([i]),
    });
  }
  return runner;
}

const RECORDED = "ab".repeat(32);
const ORPHAN = "cd".repeat(32);

async function recordDemo(h: Home): Promise<string> {
  await Deno.writeTextFile(
    join(h.home, ".venvoy", "environments", "demo", "config.yaml"),
    `name: demo\nengine: podman\nimage: localhost/venvoy/demo:latest\nimage_id: sha256:${RECORDED}\n`,
  );
  return await ownerKey(join(h.home, ".venvoy"));
}

Deno.test("uninstall removes this VENVOY_HOME's images and containers, by owner key and record", async () => {
  const h = await installedHome();
  try {
    const key = await recordDemo(h);
    const runner = podman(h, {
      // Images with this home's key (an orphan of an earlier build).
      // The engine's filter is not trusted: a listed image without the key stays.
      images: [
        { Id: ORPHAN, Names: ["localhost/venvoy/old:latest"] },
        { Id: "99".repeat(32), Names: ["localhost/venvoy/someone-elses:latest"] },
      ],
      byId: [
        { Id: ORPHAN, Config: { Labels: { "org.venvoy.owner": key } } },
        { Id: "99".repeat(32), Config: { Labels: { "org.venvoy.managed": "true" } } },
      ],
      // The recorded image, built before owner keys: the recorded ID makes it this home's.
      inspect: { Id: `sha256:${RECORDED}`, Config: { Labels: { "org.venvoy.managed": "true" } } },
      ps: [
        { Id: "c1", Names: ["mine-keyed"], Image: "x", Labels: { "org.venvoy.owner": key } },
        {
          Id: "c2",
          Names: ["mine-legacy"],
          Image: "localhost/venvoy/demo:latest",
          Labels: { "org.venvoy.managed": "true", "org.venvoy.env": "demo" },
        },
        {
          Id: "c3",
          Names: ["other-home"],
          Image: "localhost/venvoy/demo:latest",
          Labels: { "org.venvoy.owner": "0".repeat(24), "org.venvoy.env": "demo" },
        },
        {
          Id: "c4",
          Names: ["someone-elses-env"],
          Image: "localhost/venvoy/theirs:latest",
          Labels: { "org.venvoy.managed": "true", "org.venvoy.env": "theirs" },
        },
      ],
    });
    await uninstall(context(h, runner), { force: true }, NO_SELF);
    const calls = runner.argvs.filter((a) => a[1] !== "version");
    assertEquals(calls, [
      [
        "/usr/bin/podman",
        "images",
        "--no-trunc",
        "--filter",
        `label=org.venvoy.owner=${key}`,
        "--format",
        "json",
      ],
      ["/usr/bin/podman", "image", "inspect", `sha256:${ORPHAN}`],
      ["/usr/bin/podman", "image", "inspect", `sha256:${"99".repeat(32)}`],
      ["/usr/bin/podman", "image", "inspect", "localhost/venvoy/demo:latest"],
      [
        "/usr/bin/podman",
        "ps",
        "-a",
        "--no-trunc",
        "--filter",
        "label=org.venvoy.managed=true",
        "--format",
        "{{json .}}",
      ],
      ["/usr/bin/podman", "rm", "-f", "c1"],
      ["/usr/bin/podman", "rm", "-f", "c2"],
      ["/usr/bin/podman", "image", "rm", "localhost/venvoy/old:latest"],
      ["/usr/bin/podman", "image", "rm", "localhost/venvoy/demo:latest"],
    ]);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("uninstall leaves a recorded name that now points at another user's image", async () => {
  const h = await installedHome();
  try {
    await recordDemo(h);
    const runner = podman(h, {
      images: [],
      // Same tag on a shared daemon, rebuilt by someone else: another ID and another key.
      inspect: {
        Id: `sha256:${"ef".repeat(32)}`,
        Config: { Labels: { "org.venvoy.managed": "true", "org.venvoy.owner": "1".repeat(24) } },
      },
      ps: [{
        Id: "c9",
        Names: ["theirs"],
        Image: "localhost/venvoy/demo:latest",
        Labels: { "org.venvoy.managed": "true", "org.venvoy.env": "demo" },
      }],
    });
    await uninstall(context(h, runner), { force: true }, NO_SELF);
    const removals = runner.argvs.filter((a) => a[1] === "rm" || a[2] === "rm");
    assertEquals(removals, []);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("uninstall --keep-images never asks a runtime anything", async () => {
  const h = await installedHome();
  try {
    const runner = new RecordingRunner({ env: h.env, paths: { podman: "/usr/bin/podman" } });
    await uninstall(context(h, runner), { force: true, keepImages: true }, NO_SELF);
    assertEquals(runner.argvs, []);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("uninstall will not delete a VENVOY_HOME that holds the home folder", async () => {
  const h = await installedHome();
  try {
    const env = { ...h.env, VENVOY_HOME: h.home };
    const ctx = context({ ...h, env }, new RecordingRunner({ env }));
    const before = await snapshot(h.root);
    await rejects(uninstall(ctx, { force: true }, NO_SELF), /holds your home folder/);
    assertEquals(await snapshot(h.root), before);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});

Deno.test("uninstall with nothing installed says so and succeeds", async () => {
  const root = await tempDir("venvoy-uninstall-");
  try {
    const env = { HOME: root, VENVOY_LINK_DIR: "" };
    const ctx = context({ root, home: root, bin: "", linkDir: "", env });
    await uninstall(ctx, {}, { self: null, interactive: false });
    assertEquals(await snapshot(root), {});
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("uninstall restores rc files byte for byte: not UTF-8, empty before, CRLF since", async () => {
  const h = await installedHome();
  try {
    const block = renderBlock("bash", { installDir: h.bin, home: h.home });
    const enc = new TextEncoder();
    const latin1 = new Uint8Array([0x23, 0xe9, 0x0a, 0xff, 0x0a]); // "# é\n" in Latin-1, a stray byte
    await Deno.writeFile(
      join(h.home, ".bashrc"),
      new Uint8Array([...latin1, 0x0a, ...enc.encode(block)]),
    );
    // .profile was empty before the install (the installer wrote the plain block into it);
    // .bash_login was converted to CRLF after it, block and all.
    await Deno.writeTextFile(join(h.home, ".profile"), block);
    await Deno.writeTextFile(
      join(h.home, ".bash_login"),
      `export A=1\n\n${block}`.replaceAll("\n", "\r\n"),
    );
    // .zshrc did not exist: the installer made it and said so in the block.
    await Deno.writeTextFile(
      join(h.home, ".zshrc"),
      renderBlock("zsh", { installDir: h.bin, home: h.home, created: true }),
    );
    await uninstall(context(h), { force: true }, NO_SELF);
    assertEquals(await Deno.readFile(join(h.home, ".bashrc")), latin1);
    assertEquals((await Deno.stat(join(h.home, ".profile"))).size, 0);
    assertEquals(await Deno.readTextFile(join(h.home, ".bash_login")), "export A=1\r\n");
    assertEquals(await Deno.stat(join(h.home, ".zshrc")).catch(() => null), null);
  } finally {
    await Deno.remove(h.root, { recursive: true });
  }
});
