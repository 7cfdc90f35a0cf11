/**
 * A mix of good and bad uploads, as a public endpoint receives them: the
 * sample photos, every edge-case file, photos cut at odd lengths, random
 * bytes, wrong content types, broken JSON and base64. Used by the soak
 * benchmark and its test.
 *
 * @module
 */

import { join } from "node:path";
import { seededUniform } from "@common/seeded.ts";

/** One upload and what must come back. */
export interface Upload {
  name: string;
  body: Uint8Array<ArrayBuffer> | string;
  contentType: string;
  /** `ok`: 200 expected; `refused`: a 4xx JSON error expected. */
  expect: "ok" | "refused" | "either";
}

/** Builds `count` uploads from the shared images folder, the same ones for the same seed. */
export async function mixedUploads(
  sharedDir: string,
  count: number,
  seed = 7,
): Promise<Upload[]> {
  const next = seededUniform(seed);
  const photosDir = join(sharedDir, "imagenet-sample");
  const edgeDir = join(sharedDir, "edge-cases");
  const photos = await readAll(photosDir);
  const edges = await readAll(edgeDir);
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const makers: Array<() => Upload> = [
    () => {
      const [name, bytes] = pick(photos);
      return { name, body: bytes, contentType: "image/jpeg", expect: "ok" };
    },
    () => {
      const [name, bytes] = pick(photos);
      const body = JSON.stringify({ data: bytes.toBase64() });
      return { name: `${name} as JSON`, body, contentType: "application/json", expect: "ok" };
    },
    () => {
      const [name, bytes] = pick(edges);
      return { name, body: bytes, contentType: "image/png", expect: "either" };
    },
    () => {
      const [name, bytes] = pick(photos);
      const cut = Math.floor(bytes.length * next() * 0.9);
      return {
        name: `${name} cut at ${cut}`,
        body: bytes.slice(0, cut),
        contentType: "image/jpeg",
        expect: "refused",
      };
    },
    () => {
      const body = new Uint8Array(1 + Math.floor(next() * 5000));
      for (let i = 0; i < body.length; i++) body[i] = Math.floor(next() * 256);
      return { name: "random bytes", body, contentType: "image/jpeg", expect: "refused" };
    },
    () => {
      const [name, bytes] = pick(photos);
      return { name: `${name} as text`, body: bytes, contentType: "text/plain", expect: "refused" };
    },
    () => ({
      name: "broken JSON",
      body: '{"data": "AAAA',
      contentType: "application/json",
      expect: "refused",
    }),
    () => ({
      name: "bad base64",
      body: JSON.stringify({ data: "not base64 at all!" }),
      contentType: "application/json",
      expect: "refused",
    }),
  ];
  return Array.from({ length: count }, () => pick(makers)());
}

async function readAll(dir: string): Promise<Array<[string, Uint8Array<ArrayBuffer>]>> {
  const files: Array<[string, Uint8Array<ArrayBuffer>]> = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) files.push([entry.name, await Deno.readFile(join(dir, entry.name))]);
  }
  return files.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** What came back for a batch of uploads. */
export interface SoakTally {
  sent: number;
  byStatus: Record<string, number>;
  /** Answers that broke the contract: a 5xx, a non-JSON body, ok where a refusal was due. */
  violations: string[];
}

/** Sends `uploads` to `url` with `concurrency` clients and checks every answer. */
export async function soak(
  url: string,
  uploads: readonly Upload[],
  concurrency: number,
  onProgress?: (done: number) => void,
): Promise<SoakTally> {
  const tally: SoakTally = { sent: 0, byStatus: {}, violations: [] };
  let next = 0;
  const client = async () => {
    while (next < uploads.length) {
      const upload = uploads[next++];
      const response = await fetch(url, {
        method: "POST",
        body: upload.body,
        headers: { "content-type": upload.contentType },
      });
      const text = await response.text();
      tally.sent++;
      tally.byStatus[response.status] = (tally.byStatus[response.status] ?? 0) + 1;
      if (tally.sent % 250 === 0) onProgress?.(tally.sent);
      let body: { predictions?: unknown; error?: unknown; message?: unknown };
      try {
        body = JSON.parse(text);
      } catch {
        tally.violations.push(`${upload.name}: ${response.status} with a non-JSON body`);
        continue;
      }
      const ok = response.status === 200 && Array.isArray(body.predictions);
      const refused = response.status >= 400 && response.status < 500 &&
        typeof body.error === "string" && typeof body.message === "string";
      const busy = response.status === 503;
      if (busy) continue;
      if (upload.expect === "ok" && !ok) {
        tally.violations.push(`${upload.name}: expected 200, got ${response.status} ${text}`);
      } else if (upload.expect === "refused" && !refused) {
        tally.violations.push(`${upload.name}: expected a 4xx refusal, got ${response.status}`);
      } else if (upload.expect === "either" && !ok && !refused) {
        tally.violations.push(`${upload.name}: got ${response.status} ${text.slice(0, 120)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return tally;
}
