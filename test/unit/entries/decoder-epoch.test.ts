/**
 * A net under DECODER_EPOCH (src/entries/decoder-epoch.ts): the index keys of every real entry in
 * test/fixtures/realdata, digested, are recorded per epoch in test/fixtures/decoder-epoch.json. When a
 * change to src/entries alters those keys and the epoch stays, this fails: a store indexed before the
 * change would then never be re-indexed, and its entries would stay unfindable under the new keys (or
 * reported as damaged by `tlogwatch check`). A second digest covers certificates the real data lacks
 * (several SANs, malformed Fulcio values, the deprecated issuer alone…), made here with the simulator's CA.
 * Their signatures are random, so they are made twice and the keys that differ (those that hash a
 * signature: the certificate's fingerprint, a DSSE envelope's hash) are left out of it. It is a net, not a proof: a
 * change that only alters what the decoder derives from bodies unlike any of these passes here, and still
 * needs the bump.
 *
 * After bumping the epoch (and saying in decoder-epoch.ts what changed), record the new digest with
 * `TLOGWATCH_RECORD_DECODER_EPOCH=1 vitest run test/unit/entries/decoder-epoch.test.ts`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DECODER_EPOCH } from '../../../src/entries/decoder-epoch.ts';
import { parseTlogEntries, type TlogEntryInput } from '../../../src/entries/tlog-entry.ts';
import { decodeAnyBody, decodeRekorV1Body } from '../../../src/entries/decode.ts';
import type { Entry } from '../../../src/entries/types.ts';
import { indexValues } from '../../../src/store/index-values.ts';
import { filesUnder, readJson, REALDATA } from '../../helpers/realdata.ts';
import { certSigner, dsseV1, hashedrekordV1, slsaStatement } from '../../sim/bodies.ts';
import { createCA, createLeaf, type LeafClaims } from '../../sim/certs.ts';

const RECORD = 'test/fixtures/decoder-epoch.json';

interface Recorded {
  /** Per epoch: the entries digested and the SHA-256 of their index keys (the made ones' without fingerprints). */
  epochs: Record<string, { entries: number; indexKeys: string; madeIndexKeys: string }>;
}

/** Every tlog entry the real fixtures hold (bundles, Rekor v1 and v2 API responses), by file. */
function realEntries(): Array<{ file: string; input: TlogEntryInput }> {
  const out: Array<{ file: string; input: TlogEntryInput }> = [];
  for (const file of filesUnder(REALDATA, (p) => p.endsWith('.json') || p.endsWith('.sigstore')).sort()) {
    let inputs: TlogEntryInput[];
    try {
      inputs = parseTlogEntries(readJson(file));
    } catch {
      continue; // trusted roots, checkpoints, LogInfo, and the fixtures made to be refused
    }
    for (const input of inputs) out.push({ file: file.slice(REALDATA.length + 1), input });
  }
  return out;
}

/** One line per index key of an entry, `<name> <field> <hex>`, in order. */
function keyLines(name: string, e: Entry): string[] {
  return indexValues(e, true)
    .map(([field, v]) => `${name} ${field} ${Buffer.from(v).toString('hex')}`)
    .sort();
}

/** What the digest of the real entries covers. */
function indexKeyLines(): string[] {
  return realEntries().flatMap(({ file, input }) => keyLines(`${file}#${input.logIndex}`, decodeAnyBody(input.body, { log: 'x', index: Number(input.logIndex) }, input.kind, input.version)));
}

const T = 1_700_000_000;
const github: LeafClaims = {
  san: 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3',
  issuer: 'https://token.actions.githubusercontent.com',
  extensions: {
    githubWorkflowRepository: 'acme/app',
    buildSignerURI: 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3',
    runnerEnvironment: 'self-hosted',
    sourceRepositoryURI: 'https://github.com/acme/app',
    sourceRepositoryOwnerURI: 'https://github.com/acme',
    sourceRepositoryRef: 'refs/tags/v1.2.3',
    buildTrigger: 'push',
  },
};
/** Certificates the real data lacks, each as a hashedrekord and as a DSSE of a provenance statement. */
const MADE: Record<string, LeafClaims> = {
  github,
  'several SANs': { san: 'attacker@example.org', sans: ['Victim@Corp.example', 'https://github.com/acme/x', 'victim@corp.example'], issuer: 'https://accounts.google.com' },
  // More names than a reader bounded at 128 (epoch 2) reaches, the watched one last.
  'a watched identity past 200 names': { san: 'attacker@example.org', sans: [...Array.from({ length: 200 }, (_, i) => `n${i}@example.org`), 'victim@corp.example'], issuer: 'https://accounts.google.com' },
  'malformed repository value': { ...github, rawExtensions: { sourceRepositoryURI: new Uint8Array([0x0c, 0x02, 0xc3, 0x28]) } },
  'a repository value cut short': { ...github, rawExtensions: { sourceRepositoryURI: new Uint8Array([0x0c, 0x20, 0x68]) } },
  'a PrintableString issuer': { san: 'dev@example.com', rawExtensions: { issuer: new Uint8Array([0x13, 0x05, ...Buffer.from('https')]) } },
  'the deprecated issuer alone': { san: 'dev@example.com', extensions: { issuerV1: 'https://gitlab.com' } },
  'an upper-case email': { san: 'Dev.Ops@Example.COM', issuer: 'https://github.com/login/oauth' },
  'a NUL in the SAN': { san: 'a\u0000b@example.com', issuer: 'https://accounts.google.com' },
};

/** What the second digest covers: the made certificates' entries' keys that do not hash a signature. */
function madeKeyLines(): string[] {
  const once = new Set(makeKeyLines());
  return makeKeyLines().filter((l) => once.has(l));
}

function makeKeyLines(): string[] {
  const ca = createCA('decoder-epoch', T - 86_400, T + 86_400);
  return Object.entries(MADE).flatMap(([name, claims]) => {
    const k = certSigner(createLeaf(ca, claims, T));
    const digest = createHash('sha256').update(name).digest('hex');
    const rekord = decodeRekorV1Body(Buffer.from(hashedrekordV1(k, undefined, digest).body), { log: 'x', index: 0 });
    const statement = slsaStatement({ subjectName: `${name}.tgz`, digestHex: digest, time: T });
    const dsse = decodeRekorV1Body(Buffer.from(dsseV1(k, statement).body), { log: 'x', index: 1 });
    return [...keyLines(`${name} hashedrekord`, rekord), ...keyLines(`${name} dsse`, dsse)];
  });
}

describe('DECODER_EPOCH', () => {
  it('changes whenever the index keys of the real or the made entries change', () => {
    const lines = indexKeyLines();
    expect(lines.length).toBeGreaterThan(500);
    const made = madeKeyLines();
    expect(made.length).toBeGreaterThan(50);
    const now = { entries: realEntries().length, indexKeys: createHash('sha256').update(lines.join('\n')).digest('hex'), madeIndexKeys: createHash('sha256').update(made.join('\n')).digest('hex') };
    const recorded = JSON.parse(readFileSync(RECORD, 'utf8')) as Recorded;
    if (process.env['TLOGWATCH_RECORD_DECODER_EPOCH'] === '1') {
      recorded.epochs[String(DECODER_EPOCH)] = now;
      writeFileSync(RECORD, `${JSON.stringify(recorded, null, 2)}\n`);
    }
    const atThisEpoch = recorded.epochs[String(DECODER_EPOCH)];
    expect(atThisEpoch, `no digest recorded for DECODER_EPOCH ${DECODER_EPOCH}: record it (see this file's comment)`).toBeDefined();
    if (atThisEpoch!.entries !== now.entries) {
      // The fixtures changed, not the decoder: the digest covers other entries, so it is recorded again.
      expect.fail(`the real fixtures hold ${now.entries} entries, ${atThisEpoch!.entries} when epoch ${DECODER_EPOCH} was recorded: record the digest again (see this file's comment)`);
    }
    expect(
      [now.indexKeys, now.madeIndexKeys],
      `the index keys of the real or the made entries changed, but DECODER_EPOCH is still ${DECODER_EPOCH}: bump it in src/entries/decoder-epoch.ts (so existing stores re-index), say there what changed, and record the new digest (see this file's comment); if only test/sim changed how it makes certificates, record the made digest again at this epoch`,
    ).toEqual([atThisEpoch!.indexKeys, atThisEpoch!.madeIndexKeys]);
  });

});
