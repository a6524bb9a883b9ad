/** The finding the notification tests deliver: a rule violation with an identity and a digest, as the channels render them. */
import { findingId, type Finding } from '../../../src/monitor/finding.ts';

export const finding: Finding = {
  id: findingId('acme-release', 'rekor', '100'),
  rule: 'acme-release',
  kind: 'violation',
  expectation: 'expect.runnerEnvironment',
  severity: 'high',
  message: 'runner environment self-hosted is not one of github-hosted',
  log: 'rekor',
  index: 100,
  identity: 'https://github.com/acme/api/.github/workflows/release.yml@refs/tags/v1',
  digest: `sha256:${'a'.repeat(64)}`,
  firstSeen: 1_795_000_000,
  status: 'open',
};
