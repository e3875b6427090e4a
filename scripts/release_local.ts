/**
 * deno task release:local [--version X.Y.Z] [--out DIR] [--binaries DIR] [--signing-key FILE]
 *
 * Builds a release folder (default dist/release/) in the layout venvoy's installers and
 * updater read (src/release/location.ts): VERSION, SHA256SUMS, SHA256SUMS.sig,
 * venvoy-<target>[.exe] for every target, install.sh and install.ps1.
 *
 * SHA256SUMS is signed with the PKCS#8 PEM key in --signing-key FILE, or in VENVOY_SIGNING_KEY
 * (its text: the release workflow's secret). Without either, it is signed with a test key,
 * dist/release-test-key/ (made on first use, kept outside every release folder so that
 * copying a folder to a mirror never publishes it). Installing from such a folder needs
 * VENVOY_RELEASE_PUBKEY=dist/release-test-key/public.pem, which says it weakens the check.
 * --binaries (a real release) refuses the test key.
 *
 * By default every venvoy-<target> is the same bundle (scripts/bundle.ts): one JavaScript
 * file with a deno shebang, so a machine with deno on PATH can install and update from
 * the folder end to end. --version stamps another version into that bundle (for an
 * "older" release to update from) without touching deno.json. --binaries takes the
 * compiled executables from DIR instead (what the release workflow publishes).
 */
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };
import {
  assetName,
  RELEASE_TARGETS,
  SIG_FILE,
  SUMS_FILE,
  VERSION_FILE,
} from "../src/release/location.ts";
import { formatSha256Sums, sha256Hex } from "../src/release/sha256sums.ts";
import { publicKeyOf, signData } from "../src/release/signature.ts";
import { RELEASE_PUBLIC_KEY_PEM } from "../src/release/key.ts";
import { parseVersion } from "../src/release/version.ts";
import { writeKeyPair } from "./release_keygen.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

function fail(message: string): never {
  console.error(`release:local: error: ${message}`);
  Deno.exit(1);
}

function parseArgs(args: string[]) {
  const opts = {
    version: denoJson.version,
    out: join(root, "dist", "release"),
    binaries: "",
    signingKey: "",
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const value = () => inline ?? args[++i] ?? fail(`${flag} needs a value`);
    if (flag === "--version") opts.version = value();
    else if (flag === "--out") opts.out = resolve(value());
    else if (flag === "--binaries") opts.binaries = resolve(value());
    else if (flag === "--signing-key") opts.signingKey = resolve(value());
    else if (flag === "-h" || flag === "--help") {
      console.log(
        "usage: deno task release:local [--version X.Y.Z] [--out DIR] [--binaries DIR] " +
          "[--signing-key FILE]",
      );
      Deno.exit(0);
    } else fail(`unknown option '${args[i]}'`);
  }
  if (!parseVersion(opts.version)) fail(`--version '${opts.version}' is not a version (1.2.3)`);
  opts.version = opts.version.replace(/^v/, "");
  return opts;
}

async function run(cmd: string[], cwd: string): Promise<string> {
  const res = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!res.success) fail(`${cmd.join(" ")} failed (exit ${res.code})`);
  return new TextDecoder().decode(res.stdout);
}

/** scripts/bundle.ts run in a copy of the tree whose deno.json says `version`. */
async function bundle(version: string): Promise<Uint8Array> {
  const stage = await mkdtemp(join(tmpdir(), "venvoy-release-"));
  try {
    for (const entry of ["deno.lock", "main.ts", "src", "scripts", "templates", "shell"]) {
      await cp(join(root, entry), join(stage, entry), { recursive: true }).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    }
    const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
    config.version = version;
    await Deno.writeTextFile(join(stage, "deno.json"), JSON.stringify(config, null, 2) + "\n");
    await run([Deno.execPath(), "run", "-A", "scripts/bundle.ts"], stage);
    const out = join(stage, "dist", "venvoy");
    const said = (await run([out, "--version"], stage)).trim();
    if (said !== version) fail(`the bundle says --version '${said}', not ${version}`);
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
}

async function compiled(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const missing: string[] = [];
  for (const t of RELEASE_TARGETS) {
    try {
      files.set(assetName(t), await Deno.readFile(join(dir, assetName(t))));
    } catch {
      missing.push(assetName(t));
    }
  }
  if (missing.length) fail(`${dir} lacks ${missing.join(", ")} (run deno task compile first)`);
  return files;
}

/** Replaces `out` with the new folder, refusing to delete a folder that is not a release. */
async function publish(out: string, files: Map<string, Uint8Array>): Promise<void> {
  const staged = `${out}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(staged, { recursive: true });
  for (const [name, bytes] of files) {
    const exec = name.startsWith("venvoy-") || name.endsWith(".sh");
    await Deno.writeFile(join(staged, name), bytes, { mode: exec ? 0o755 : 0o644 });
  }
  const old = await Array.fromAsync(Deno.readDir(out)).catch(() => null);
  if (old && old.length && !old.some((e) => e.name === VERSION_FILE)) {
    await Deno.remove(staged, { recursive: true });
    fail(`${out} exists and is not a release folder (no ${VERSION_FILE}); not replacing it`);
  }
  if (old) await Deno.remove(out, { recursive: true });
  await Deno.rename(staged, out);
}

const TEST_KEY_DIR = join(root, "dist", "release-test-key");

/** The signing key's PEM text, and what to tell the person about it. */
async function signingKey(opts: { signingKey: string; binaries: string }): Promise<string> {
  if (opts.signingKey) return await Deno.readTextFile(opts.signingKey);
  const secret = Deno.env.get("VENVOY_SIGNING_KEY")?.trim();
  if (secret) return secret;
  if (opts.binaries) {
    fail("a release of compiled binaries needs the release key: set VENVOY_SIGNING_KEY");
  }
  const file = join(TEST_KEY_DIR, "private.pem");
  const made = await Deno.stat(file).then(() => false, () => true);
  if (made) await writeKeyPair(TEST_KEY_DIR);
  console.error(`release:local: ${made ? "made" : "using"} the test key ${TEST_KEY_DIR}`);
  return await Deno.readTextFile(file);
}

if (import.meta.main) {
  const opts = parseArgs(Deno.args);
  const files = new Map<string, Uint8Array>();
  if (opts.binaries) {
    for (const [k, v] of await compiled(opts.binaries)) files.set(k, v);
  } else {
    const js = await bundle(opts.version);
    for (const t of RELEASE_TARGETS) files.set(assetName(t), js);
  }
  for (const installer of ["install.sh", "install.ps1"]) {
    files.set(installer, await Deno.readFile(join(root, installer)));
  }
  files.set(VERSION_FILE, new TextEncoder().encode(`${opts.version}\n`));
  const sums = new Map<string, string>();
  for (const [name, bytes] of files) sums.set(name, await sha256Hex(bytes));
  const sumsBytes = new TextEncoder().encode(formatSha256Sums(sums));
  files.set(SUMS_FILE, sumsBytes);
  const key = await signingKey(opts);
  const publicPem = await publicKeyOf(key);
  if (opts.binaries && publicPem.trim() !== RELEASE_PUBLIC_KEY_PEM.trim()) {
    fail("the signing key is not the one src/release/key.ts trusts; installs would refuse it");
  }
  files.set(SIG_FILE, new TextEncoder().encode(await signData(sumsBytes, key)));
  await publish(opts.out, files);
  const trusted = publicPem.trim() === RELEASE_PUBLIC_KEY_PEM.trim()
    ? "signed with the built-in release key"
    : "signed with a key venvoy does not trust by default: install and update it with " +
      `VENVOY_RELEASE_PUBKEY=${
        opts.signingKey || Deno.env.get("VENVOY_SIGNING_KEY")
          ? "<its public key in a file>"
          : join(TEST_KEY_DIR, "public.pem")
      }`;
  console.error(
    `release:local: wrote ${opts.out} (venvoy ${opts.version}, ${files.size} files, ` +
      `${opts.binaries ? "compiled binaries" : "bundle artifacts: need deno on PATH"}; ` +
      `${trusted})`,
  );
}
