/** base-packages.json: what the image itself contains, listed once after each build. */
import { join } from "node:path";
import type { ContainerRuntime } from "../runtime/mod.ts";
import { VenvoyError } from "../ui/errors.ts";
import { writeFileAtomic } from "../util/atomic.ts";

export interface PackageEntry {
  name: string;
  version: string;
  source?: string;
  repository?: string;
  channel?: string;
}

export interface BasePackages {
  python: PackageEntry[];
  r: PackageEntry[];
  conda: PackageEntry[];
  os: PackageEntry[];
}

export interface Capture {
  versions: { python?: string; r?: string };
  packages: BasePackages;
}

/** Parses capture.sh's output: `@@section` lines, then tab-separated rows. */
export function parseCapture(text: string): Capture {
  const out: Capture = { versions: {}, packages: { python: [], r: [], conda: [], os: [] } };
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.startsWith("@@")) {
      section = line.slice(2).trim();
      continue;
    }
    if (!line.trim()) continue;
    const f = line.split("\t");
    if (section === "versions") {
      if (f[0] === "python" || f[0] === "r") out.versions[f[0]] = f[1]?.trim();
    } else if (section === "python" && f.length >= 2) {
      out.packages.python.push({ name: f[0], version: f[1] });
    } else if (section === "r" && f.length >= 2) {
      const e: PackageEntry = { name: f[0], version: f[1], source: f[2] || "Repository" };
      if (f[3]) e.repository = f[3];
      out.packages.r.push(e);
    } else if (section === "conda" && f.length >= 2) {
      out.packages.conda.push({ name: f[0], version: f[1], ...(f[2] ? { channel: f[2] } : {}) });
    } else if (section === "os" && f.length >= 2) {
      out.packages.os.push({ name: f[0], version: f[1] });
    }
  }
  for (const list of Object.values(out.packages) as PackageEntry[][]) {
    list.sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  }
  return out;
}

/** The most of capture.txt read back (a few thousand packages are well under 1 MiB). */
const CAPTURE_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The text a container wrote into `dir` (a temporary folder mounted into it) as `name`:
 * through safe_fs, so a link there puts no host file into venvoy's lists and a FIFO does
 * not hang it (UnsafePathError, naming what it was); "" when nothing was written.
 */
export async function readContainerOutput(
  dir: string,
  name: string,
  maxBytes: number,
): Promise<string> {
  const { readContainedIfExists, UnsafePathError } = await import("../util/safe_fs.ts");
  try {
    const bytes = readContainedIfExists(dir, name, { maxBytes });
    return bytes ? new TextDecoder().decode(bytes) : "";
  } catch (e) {
    if (e instanceof UnsafePathError) {
      throw new VenvoyError(`the container's ${e.message}; it was not read`, {
        hint: "the image wrote something other than a plain file there; rebuild it from a " +
          "base you trust",
      });
    }
    throw e;
  }
}

/** Runs capture.sh in the image, with a temporary folder mounted for its output. */
export async function captureImage(
  runtime: ContainerRuntime,
  image: string,
  options: { user?: { uid: number; gid: number } },
): Promise<Capture> {
  const tmp = await Deno.makeTempDir({ prefix: "venvoy-capture-" });
  try {
    const code = await runtime.run({
      image,
      command: ["sh", "-c", "sh /opt/venvoy/lib/capture.sh > /opt/venvoy/out/capture.txt"],
      mounts: [{ source: tmp, target: "/opt/venvoy/out" }],
      user: options.user,
      labels: { "org.venvoy.managed": "true" },
      noHome: true,
    });
    const text = await readContainerOutput(tmp, "capture.txt", CAPTURE_MAX_BYTES);
    if (code !== 0 || !text) {
      throw new VenvoyError(`could not list the packages of the built image (exit ${code})`, {
        hint: `try: venvoy run --command 'sh /opt/venvoy/lib/capture.sh'`,
      });
    }
    return parseCapture(text);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

export async function writeBasePackages(envDir: string, packages: BasePackages): Promise<void> {
  const ordered = {
    python: packages.python,
    r: packages.r,
    conda: packages.conda,
    os: packages.os,
  };
  await writeFileAtomic(
    join(envDir, "base-packages.json"),
    JSON.stringify(ordered, null, 2) + "\n",
  );
}

export async function readBasePackages(envDir: string): Promise<BasePackages | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(envDir, "base-packages.json")));
  } catch {
    return null;
  }
}
