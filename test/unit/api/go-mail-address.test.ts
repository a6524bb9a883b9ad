/**
 * SearchIndex.email is `format: email`, which Rekor's server checks with Go's net/mail ParseAddress
 * (go-openapi/strfmt IsEmail). Vectors: the forms Go's parser takes and refuses (src/net/mail/message.go,
 * RFC 5322 §3.4), each of which Rekor answers 200 or 422 for accordingly.
 */
import { describe, expect, it } from 'vitest';
import { isGoMailAddress } from '../../../src/api/go-mail-address.ts';

describe('isGoMailAddress, as Go net/mail ParseAddress judges an address', () => {
  it.each([
    'jdoe@machine.example',
    'John Doe <jdoe@machine.example>',
    '<jdoe@machine.example>',
    '"Joe Q. Public" <john.q.public@example.com>',
    '"Giant; \\"Big\\" Box" <sysservices@example.net>',
    'john.doe@example.com (John Doe)',
    'John (middle) Doe <jdoe@machine.example>',
    'Group1: <addr1@example.com>;',
    'Group 2: addr2@example.com;',
    '=?iso-8859-1?q?J=F6rg_Doe?= <joerg@example.com>',
    '"quoted local"@example.com',
    'jdoe@[192.168.0.1]',
    'jdoe@[IPv6:2001:db8::1]',
    'üñî@exämple.com',
    '  alice@example.com  ',
    'a.b+tag@sub.example.co',
    'user@localhost',
  ])('takes %j', (v) => expect(isGoMailAddress(v)).toBe(true));

  it.each([
    '',
    '   ',
    'jdoe',
    'John Doe',
    'jdoe@',
    '@example.com',
    'john..doe@example.com',
    '.john@example.com',
    'john.@example.com',
    'john@example..com',
    'john@.example.com',
    '""@example.com',
    'a@b c',
    'a@b, c@d',
    'Group: a@b.c, d@e.f;',
    'Group:;',
    'jdoe@[example.com]',
    'jdoe@[300.1.1.1]',
    '<jdoe@machine.example',
    'jdoe@machine.example (unclosed',
    'John <jdoe@machine.example> trailing',
    '=?x-unknown?q?abc?= <jdoe@machine.example>',
    'a"b@example.com',
  ])('refuses %j', (v) => expect(isGoMailAddress(v)).toBe(false));
});
