// The console's proof check, run in the auditor's browser with WebCrypto (no library, nothing from
// elsewhere): RFC 9162 leaf hashes and inclusion proofs, and the C2SP signed-note checkpoint with its
// Ed25519 signature. What it concludes comes from the entry's bytes and the open ledger API, never
// from a verdict the server wrote into the page.

const encoder = new TextEncoder();

export class Refusal extends Error {
  constructor(message, options = {}) {
    super(message, options);
    this.entryId = options.entryId;  // the entry that failed, when one did
  }
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

export function fromBase64(text) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) throw new Refusal(`bad base64: ${text.slice(0, 20)}`);
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function toBase64(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

function equal(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

export function leafHash(entryBytes) {
  return sha256(Uint8Array.of(0), entryBytes); // RFC 9162 §2.1.1
}

function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), left, right);
}

// RFC 9162 §2.1.3.2: the root that an inclusion proof of `leaf` at `index` in a tree of `treeSize` gives.
export async function rootFromInclusionProof(index, treeSize, leaf, proof) {
  if (!(index >= 0 && index < treeSize)) throw new Refusal(`leaf index ${index} is not below tree size ${treeSize}`);
  let fn = index, sn = treeSize - 1, r = leaf;
  for (const p of proof) {
    if (p.length !== 32) throw new Refusal("a proof hash is not 32 bytes");
    if (sn === 0) throw new Refusal("the inclusion proof is longer than the tree is deep");
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Refusal("the inclusion proof is shorter than the tree is deep");
  return r;
}

// Whether `leaf` is at `index` of the tree of `treeSize` leaves whose root is `root`.
export async function verifyInclusion(index, treeSize, leaf, proof, root) {
  if (leaf.length !== 32 || root.length !== 32) return false;
  try {
    return equal(await rootFromInclusionProof(index, treeSize, leaf, proof), root);
  } catch (error) {
    if (error instanceof Refusal) return false;
    throw error;
  }
}

// <name>+<8 hex key id>+<base64(0x01 || 32-byte Ed25519 key)>, its id checked against name and key.
export async function parseVerifierKey(text) {
  // Only the first two "+" separate: base64 has "+" of its own.
  const [, name, idHex, keyB64] = /^([^+\s]+)\+([0-9a-fA-F]{8})\+(\S+)$/.exec(text.trim()) || [];
  if (!name) throw new Refusal("the public key is not a verifier key");
  const raw = fromBase64(keyB64);
  if (raw.length !== 33 || raw[0] !== 1) throw new Refusal("the public key is not an Ed25519 verifier key");
  const keyId = Uint8Array.from(idHex.match(/../g), (h) => parseInt(h, 16));
  const expected = (await sha256(encoder.encode(name + "\n"), raw)).slice(0, 4);
  if (!equal(keyId, expected)) throw new Refusal("the public key's id does not match its name and key");
  return { name, keyId, publicKey: raw.slice(1) };
}

// A C2SP tlog-checkpoint signed note: its origin, size and root, once a signature by `key` verifies.
export async function verifyCheckpoint(note, key) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new Refusal("the checkpoint is not a signed note");
  const text = note.slice(0, split + 1);
  const lines = text.split("\n");
  if (lines.length < 4 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) throw new Refusal("the checkpoint's body is malformed");
  const [origin, size, rootB64] = lines;
  const root = fromBase64(rootB64);
  if (root.length !== 32) throw new Refusal("the checkpoint's root is not 32 bytes");
  if (origin !== key.name) throw new Refusal(`the checkpoint is of ${origin}, the key of ${key.name}`);
  const publicKey = await crypto.subtle.importKey("raw", key.publicKey, { name: "Ed25519" }, false, ["verify"]);
  for (const line of note.slice(split + 2, -1).split("\n")) {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!match || match[1] !== key.name) continue;
    const signed = fromBase64(match[2]);
    if (signed.length !== 68 || !equal(signed.slice(0, 4), key.keyId)) continue;
    if (await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signed.slice(4), encoder.encode(text))) {
      return { origin, treeSize: Number(size), root };
    }
    throw new Refusal(`the checkpoint's signature by ${key.name} does not verify`);
  }
  throw new Refusal(`the checkpoint carries no signature by ${key.name}`);
}

function sameJSON(a, b) {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJSON(a[k], b[k]));
}

function sameReport(entryPayload, shown) {
  // occurred_at is shown normalized to UTC; the entry holds it as sent (any offset): the same instant.
  const { occurred_at: sent, ...rest } = entryPayload;
  const { occurred_at: seen, ...shownRest } = shown;
  return Date.parse(sent) === Date.parse(seen) && sameJSON(rest, shownRest);
}

// Whether the page shows what the entry holds: the report, its evaluation, a review.
export function differenceFromPage(entry, shown) {
  const kind = entry.entry_type;
  if (kind === "event_received" || kind === "correction") {
    const version = shown.versions?.[entry.id];
    if (!version) return "it is not one of the versions shown";
    for (const field of ["event_id", "reporter", "version", "supersedes"]) {
      if (!sameJSON(entry.body[field], version[field])) return `its ${field} differs from the page`;
    }
    return sameReport(entry.body.payload, version.payload) ? null : "its report differs from the report shown";
  }
  if (kind === "evaluation") {
    const evaluation = shown.evaluations?.[entry.body.event_id];
    if (!evaluation) return "it evaluates no version shown";
    for (const field of Object.keys(evaluation)) {
      if (!sameJSON(entry.body[field], evaluation[field])) return `its ${field} differs from the page`;
    }
    return null;
  }
  if (kind === "review") {
    const review = shown.reviews?.[entry.id];
    if (!review) return "it is not one of the reviews shown";
    for (const field of Object.keys(review)) {
      if (!sameJSON(entry.body[field], review[field])) return `its ${field} differs from the page`;
    }
    return null;
  }
  return null;
}

async function fetchText(url) {
  const response = await fetch(url, { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Refusal(`${url} answered ${response.status}`);
  return response.text();
}

// Checks every entry of the page; throws a Refusal naming the first one that fails.
export async function verifyPage(data, onEntry = () => {}) {
  const key = await parseVerifierKey(await fetchText(data.urls.public_key));
  const checkpoint = await verifyCheckpoint(await fetchText(data.urls.checkpoint), key);
  for (const item of data.entries) {
    const where = `entry ${item.entry_id} (${item.entry_type.replace("_", " ")})`;
    if (item.leaf_index === null || item.leaf_index >= checkpoint.treeSize) {
      throw new Refusal(`${where} is not in a signed checkpoint yet`, { cause: "pending", entryId: item.entry_id });
    }
    const bytes = fromBase64(item.canonical);
    const leaf = await leafHash(bytes);
    const url = `${data.urls.inclusion}?index=${item.leaf_index}&tree_size=${checkpoint.treeSize}`;
    const proof = JSON.parse(await fetchText(url));
    if (!await verifyInclusion(item.leaf_index, checkpoint.treeSize, leaf, proof.proof.map(fromBase64),
                               checkpoint.root)) {
      throw new Refusal(`${where}: its bytes and inclusion proof do not give the checkpoint's root: the entry was changed`,
                        { entryId: item.entry_id });
    }
    let body;
    try { body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)); } catch {
      throw new Refusal(`${where} is not JSON`, { entryId: item.entry_id });
    }
    const difference = differenceFromPage({ id: String(item.entry_id), entry_type: item.entry_type, body }, data.shown);
    if (difference) throw new Refusal(`${where} is in the ledger, but ${difference}`, { entryId: item.entry_id });
    onEntry(item.entry_id, leaf);
  }
  return checkpoint;
}

function show(status, verified, text, reason = "") {
  const summary = document.getElementById("proof-summary");
  if (summary) summary.textContent = verified === "true" ? "Proof: verified in this browser ✓" : "Proof: NOT verified";
  status.dataset.verified = verified;
  if (reason) status.dataset.reason = reason; else delete status.dataset.reason;
  status.textContent = text;
  status.classList.toggle("verified", verified === "true");
  status.classList.toggle("not-verified", verified === "false");
}

const PENDING_RETRIES = 5;

async function main() {
  const status = document.getElementById("proof-status");
  const data = JSON.parse(document.getElementById("proof-data")?.textContent || "null");
  if (!status || !data) return;
  if (!window.isSecureContext || !globalThis.crypto?.subtle) {
    show(status, "false", "Not verified: this page is not in a secure context, so the browser offers no WebCrypto " +
         "to check the proofs with. Open the console over HTTPS (or on this machine, as localhost) to verify here.",
         "insecure-context");
    return;
  }
  const cells = new Map([...document.querySelectorAll(".entry-check")].map((c) => [c.dataset.entryId, c]));
  try {
    const checkpoint = await verifyPage(data, (entryId, leaf) => {
      const cell = cells.get(String(entryId));
      if (cell) { cell.textContent = "✓ included"; cell.title = `leaf hash ${toBase64(leaf)}`; }
    });
    sessionStorage.removeItem(`pending:${location.pathname}`);
    const entries = data.entries.length;
    const signed = `the checkpoint of tree size ${checkpoint.treeSize.toLocaleString("en")} ` +
                   `(root ${toBase64(checkpoint.root)}), with a valid Ed25519 signature by ${checkpoint.origin}`;
    show(status, "true", entries
      ? `Verified in this browser: ${entries === 1 ? "the entry is" : `all ${entries} entries are`} in the ledger ` +
        `as this page shows them, under ${signed}.`
      : `Verified in this browser: ${signed}.`);
  } catch (error) {
    const pending = error instanceof Refusal && error.cause === "pending";
    const tries = Number(sessionStorage.getItem(`pending:${location.pathname}`) || 0);
    if (pending && tries < PENDING_RETRIES) {
      // The sequencer signs a checkpoint within a second of an entry: look again shortly.
      sessionStorage.setItem(`pending:${location.pathname}`, String(tries + 1));
      status.textContent = `${error.message}; the sequencer signs one within a second: reloading…`;
      setTimeout(() => location.reload(), 1500);
      return;
    }
    sessionStorage.removeItem(`pending:${location.pathname}`);
    const message = error instanceof Refusal ? error.message : `the check could not run (${error})`;
    show(status, "false", `Not verified: ${message}.`, message);
    const failed = cells.get(String(error.entryId));
    if (failed) failed.textContent = "✗ not verified";
    for (const cell of cells.values()) if (cell.textContent === "…") cell.textContent = "not checked";
  }
}

if (typeof document !== "undefined") main();
