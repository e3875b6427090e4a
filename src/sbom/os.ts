/**
 * The OS packages of an image, asked of the image itself through the runtime adapter's
 * run (dpkg, rpm or apk, whichever it has), with the distribution from /etc/os-release,
 * so each package gets a purl of its own kind (pkg:deb/debian/…, pkg:rpm/fedora/…).
 */
import type { ContainerRuntime } from "../runtime/mod.ts";
import { VenvoyError } from "../ui/errors.ts";
import { readContainerOutput } from "../env/capture.ts";

/** The most of os.txt read back (a large distribution lists a few thousand packages). */
const OS_OUT_MAX_BYTES = 4 * 1024 * 1024;

export type OsPackageKind = "deb" | "rpm" | "apk";

export interface OsPackage {
  name: string;
  version: string;
  arch?: string;
  /** rpm's epoch, when it has one. */
  epoch?: string;
}

export interface OsPackages {
  kind: OsPackageKind | null;
  /** /etc/os-release ID and VERSION_ID ("debian", "12"), when the image has them. */
  distro: { id: string; versionId: string } | null;
  packages: OsPackage[];
}

const OUT = "/opt/venvoy/out";

/**
 * Runs in the image as sh; prints `@@section` lines and tab-separated rows. dpkg rows keep
 * only installed packages (status "ii"), not those removed with their configuration left.
 */
export const OS_QUERY_SCRIPT = `exec >${OUT}/os.txt
ID=; VERSION_ID=
if [ -r /etc/os-release ]; then . /etc/os-release; fi
echo "@@os-release"
printf 'id\\t%s\\nversion_id\\t%s\\n' "$ID" "$VERSION_ID"
if command -v dpkg-query >/dev/null 2>&1; then
  echo "@@deb"
  dpkg-query -W -f '\${db:Status-Abbrev}\\t\${Package}\\t\${Version}\\t\${Architecture}\\n' | awk -F'\\t' '$1 ~ /^ii/ { print $2 "\\t" $3 "\\t" $4 }'
elif command -v rpm >/dev/null 2>&1; then
  echo "@@rpm"
  rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{EPOCH}\\n'
elif [ -r /lib/apk/db/installed ]; then
  echo "@@apk"
  awk '/^P:/ { p = substr($0, 3) } /^V:/ { v = substr($0, 3) } /^A:/ { a = substr($0, 3) } /^$/ { if (p != "") print p "\\t" v "\\t" a; p = "" } END { if (p != "") print p "\\t" v "\\t" a }' /lib/apk/db/installed
fi
`;

/** Parses OS_QUERY_SCRIPT's output. */
export function parseOsQuery(text: string): OsPackages {
  const out: OsPackages = { kind: null, distro: null, packages: [] };
  let section = "";
  const release: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.startsWith("@@")) {
      section = line.slice(2).trim();
      if (section === "deb" || section === "rpm" || section === "apk") out.kind = section;
      continue;
    }
    if (!line.trim()) continue;
    const f = line.split("\t");
    if (section === "os-release") {
      release[f[0]] = (f[1] ?? "").trim();
    } else if (out.kind && section === out.kind && f.length >= 2 && f[0] && f[1]) {
      const p: OsPackage = { name: f[0], version: f[1] };
      if (f[2]) p.arch = f[2];
      if (section === "rpm" && f[3] && f[3] !== "(none)") p.epoch = f[3];
      out.packages.push(p);
    }
  }
  if (release.id) out.distro = { id: release.id, versionId: release.version_id ?? "" };
  const seen = new Set<string>();
  out.packages = out.packages
    .sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : (a.arch ?? "") < (b.arch ?? "") ? -1 : 1
    )
    .filter((p) => {
      const k = `${p.name}\0${p.arch ?? ""}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  return out;
}

/** Asks the image; a mounted temporary folder carries the answer out. */
export async function queryOsPackages(
  runtime: ContainerRuntime,
  image: string,
  options: { user?: { uid: number; gid: number } } = {},
): Promise<OsPackages> {
  const tmp = await Deno.makeTempDir({ prefix: "venvoy-sbom-" });
  try {
    const code = await runtime.run({
      image,
      command: ["sh", "-c", OS_QUERY_SCRIPT],
      mounts: [{ source: tmp, target: OUT }],
      user: options.user,
      labels: { "org.venvoy.managed": "true" },
      noHome: true,
    });
    const text = await readContainerOutput(tmp, "os.txt", OS_OUT_MAX_BYTES);
    if (code !== 0 || !text) {
      throw new VenvoyError(`could not list the OS packages of ${image} (exit ${code})`, {
        hint: "check that the image runs: venvoy run NAME --command true",
      });
    }
    return parseOsQuery(text);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
