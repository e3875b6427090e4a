/**
 * SHA-256 as lower-case hex: of bytes or text (Web Crypto, no node: module, so the boot
 * loader and `venvoy run`'s config cache can use it), and of a file, streamed.
 */

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Streams the file, so a multi-gigabyte image or wheel is never held in memory. */
export async function sha256File(path: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk); // closes the file at the end
  return hash.digest("hex");
}

/**
 * sha256File, synchronous, for a check that must stay synchronous (the SIF a session is
 * about to run, hpc/sif.ts). node:crypto is taken at the call, not imported: `venvoy run`
 * is bundled whole and may hold no static node: import.
 */
export function sha256FileSync(path: string): string {
  const { createHash } = (globalThis as unknown as {
    process: { getBuiltinModule(id: "node:crypto"): typeof import("node:crypto") };
  }).process.getBuiltinModule("node:crypto");
  const hash = createHash("sha256");
  const file = Deno.openSync(path, { read: true });
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = file.readSync(buf);
      if (n === null) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    file.close();
  }
  return hash.digest("hex");
}
