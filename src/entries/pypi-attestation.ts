/**
 * PyPI's attestations (PEP 740, packaging.python.org "Index hosted attestations"): an attestation
 * object `{version: 1, verification_material: {certificate, transparency_entries}, envelope: {statement,
 * signature}}`, alone or inside a provenance object `{version: 1, attestation_bundles: [{publisher,
 * attestations: [...]}]}` (what PyPI's Integrity API serves). They are how Trusted Publishers other than
 * GitHub Actions (GitLab CI/CD, Google Cloud) sign for PyPI, so they are most of the public non-GitHub CI
 * identities on Rekor.
 *
 * `transparency_entries` are protobuf-specs TransparencyLogEntry JSON, as in a bundle. The envelope is a
 * DSSE envelope with its payload type left out: the spec fixes it as `application/vnd.in-toto+json` (the
 * statement "MUST be a JSON in-toto v1 Statement", signed over the DSSE PAE), and there is one signature,
 * by the certificate.
 */
import { b64, bad, list, obj } from './tlog-input.ts';
import { fromTransparencyLogEntry } from './bundle.ts';
import type { BundleContent, TlogEntryInput } from './tlog-entry.ts';

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const MAX_ENTRIES = 64;
const MAX_ATTESTATIONS = 1_000;

/** The spec's only version; a later one may change the layout, so it is refused rather than guessed. */
function version1(o: Record<string, unknown>, where: string): void {
  if (o['version'] !== 1) throw bad(`${where}version`, `unsupported PEP 740 version ${JSON.stringify(o['version'])?.slice(0, 20) ?? '(missing)'} (expected 1)`);
}

export const isPypiAttestation = (o: Record<string, unknown>): boolean => o['verification_material'] !== undefined && o['envelope'] !== undefined;
export const isPypiProvenance = (o: Record<string, unknown>): boolean => o['attestation_bundles'] !== undefined;

/** Every tlog entry of one attestation object; `where` prefixes paths in messages. */
export function fromPypiAttestation(a: Record<string, unknown>, where: string): TlogEntryInput[] {
  version1(a, where);
  const vm = obj(a['verification_material'], `${where}verification_material`);
  const env = obj(a['envelope'], `${where}envelope`);
  const content: BundleContent = {
    certificate: b64(vm['certificate'], `${where}verification_material.certificate`),
    dsseEnvelope: {
      payload: b64(env['statement'], `${where}envelope.statement`),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: b64(env['signature'], `${where}envelope.signature`), keyid: '' }],
    },
  };
  const at = `${where}verification_material.transparency_entries`;
  const entries = list(vm['transparency_entries'], at, MAX_ENTRIES);
  if (entries.length === 0) throw bad(at, 'empty: the attestation has no transparency-log entry');
  return entries.map((e, i) => fromTransparencyLogEntry(obj(e, `${at}[${i}]`), `${at}[${i}]`, 'bundle', content));
}

/** Every tlog entry of every attestation in a provenance object. */
export function fromPypiProvenance(p: Record<string, unknown>): TlogEntryInput[] {
  version1(p, '');
  const bundles = list(p['attestation_bundles'], 'attestation_bundles', MAX_ATTESTATIONS);
  const out = bundles.flatMap((b, i) => {
    const at = `attestation_bundles[${i}].attestations`;
    return list(obj(b, `attestation_bundles[${i}]`)['attestations'], at, MAX_ATTESTATIONS).flatMap((a, j) => fromPypiAttestation(obj(a, `${at}[${j}]`), `${at}[${j}].`));
  });
  if (out.length === 0) throw bad('attestation_bundles', 'empty: the provenance holds no attestation');
  return out;
}
