import assert, { deepStrictEqual as assertEquals, rejects } from "node:assert/strict";
import { join } from "node:path";
import {
  generateKeyPair,
  publicKeyOf,
  SignatureError,
  signData,
  verifySignature,
} from "../../../src/release/signature.ts";
import { tempDir } from "../../fakes/tmp.ts";
import { enc, testKey } from "./signed_release.ts";

const signer = await testKey();
const data = enc.encode("aa  VERSION\nbb  venvoy-x86_64-unknown-linux-gnu\n");
const source = "SHA256SUMS.sig";

Deno.test("a signature verifies over the exact bytes, and over nothing else", async () => {
  const sig = await signData(data, signer.privatePem);
  assert(/^[A-Za-z0-9+/]{86}==\n$/.test(sig), sig); // 64 bytes, base64, one line
  await verifySignature(data, sig, { key: signer.key, source });
  const changed = data.slice();
  changed[0] ^= 1;
  await rejects(verifySignature(changed, sig, { key: signer.key, source }), SignatureError);
  const other = await testKey();
  await rejects(
    verifySignature(data, sig, { key: other.key, source }),
    { name: "SignatureError", message: "SHA256SUMS.sig is not a valid signature by the test key" },
  );
});

Deno.test("a signature that is not base64 of 64 bytes is refused before any crypto", async () => {
  const sig = (await signData(data, signer.privatePem)).trim();
  for (const bad of ["", "not base64!", sig.slice(0, 40), `${sig}AAAA`, "<html>404</html>"]) {
    await rejects(verifySignature(data, bad, { key: signer.key, source }), {
      name: "SignatureError",
      message: "SHA256SUMS.sig is not an Ed25519 signature (base64 of 64 bytes)",
    });
  }
});

Deno.test("a key that is not an Ed25519 public key is an error naming its source", async () => {
  const sig = await signData(data, signer.privatePem);
  const notEd = {
    pem: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    source: "k.pem",
    builtIn: false,
  };
  await rejects(
    verifySignature(data, sig, { key: notEd, source }),
    /k\.pem is not an Ed25519 public key/,
  );
  const garbage = { pem: "hello", source: "g.pem", builtIn: false };
  await rejects(
    verifySignature(data, sig, { key: garbage, source }),
    /g\.pem is not a PEM public key/,
  );
});

Deno.test("publicKeyOf gives the public half of a private key", async () => {
  const pair = await generateKeyPair();
  assertEquals(await publicKeyOf(pair.privatePem), pair.publicPem);
});

/** OpenSSL 3 on PATH, or null (LibreSSL and OpenSSL 1.1 cannot check Ed25519 over raw input). */
async function openssl3(): Promise<string | null> {
  try {
    const res = await new Deno.Command("openssl", { args: ["version"], stderr: "null" }).output();
    return /^OpenSSL [3-9]\./.test(new TextDecoder().decode(res.stdout)) ? "openssl" : null;
  } catch {
    return null;
  }
}
const ssl = await openssl3();
if (!ssl) console.error("signature_test: skipping the OpenSSL interop test: no OpenSSL 3 on PATH");

Deno.test({
  name: "OpenSSL 3 checks venvoy's signatures, and venvoy checks OpenSSL's (install.sh's commands)",
  ignore: !ssl,
  fn: async () => {
    const dir = await tempDir("venvoy-openssl-");
    const run = async (...args: string[]) =>
      (await new Deno.Command(ssl!, { args, cwd: dir, stdout: "null", stderr: "null" }).output())
        .code;
    await Deno.writeFile(join(dir, "SHA256SUMS"), data);
    await Deno.writeTextFile(join(dir, "pub.pem"), signer.key.pem);
    await Deno.writeTextFile(join(dir, "SHA256SUMS.sig"), await signData(data, signer.privatePem));
    assertEquals(await run("base64", "-d", "-A", "-in", "SHA256SUMS.sig", "-out", "sig.bin"), 0);
    const verify = ["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin"];
    assertEquals(await run(...verify, "-in", "SHA256SUMS", "-sigfile", "sig.bin"), 0);
    await Deno.writeFile(join(dir, "other"), enc.encode("other bytes"));
    assertEquals(await run(...verify, "-in", "other", "-sigfile", "sig.bin"), 1);

    // The other way: a key and a signature made by openssl (what release_keygen documents).
    assertEquals(await run("genpkey", "-algorithm", "ed25519", "-out", "priv.pem"), 0);
    assertEquals(await run("pkey", "-in", "priv.pem", "-pubout", "-out", "pub2.pem"), 0);
    const sign = ["pkeyutl", "-sign", "-inkey", "priv.pem", "-rawin", "-in", "SHA256SUMS"];
    assertEquals(await run(...sign, "-out", "raw.sig"), 0);
    const raw = await Deno.readFile(join(dir, "raw.sig"));
    const pem = await Deno.readTextFile(join(dir, "pub2.pem"));
    assertEquals(await publicKeyOf(await Deno.readTextFile(join(dir, "priv.pem"))), pem);
    await verifySignature(data, btoa(String.fromCharCode(...raw)), {
      key: { pem, source: "pub2.pem", builtIn: false },
      source,
    });
  },
});
