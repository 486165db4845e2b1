// Certificate items: every certificate of the PKI (gen-pki.mjs) plus a few invalid ones.
import { toBuffer } from './util.mjs';

export async function writeCertificates(out, pki) {
  const paths = {};
  for (const [name, record] of Object.entries(pki.certs)) {
    paths[name] = await out.file(`certs/${name}.der`, record.der);
  }
  const notYetValid = { expect: 'invalid', reason: 'not valid yet at validate_at' };
  const special = {
    expired: { expect: 'invalid', reason: 'expired before validate_at' },
    'not-yet-valid': notYetValid,
  };
  for (const [name, record] of Object.entries(pki.certs)) {
    out.item({
      name: `certificate-${name}`,
      kind: 'certificate',
      file: paths[name],
      expect: special[name]?.expect ?? 'valid',
      reason: special[name]?.reason,
      fields: record.fields,
    });
  }
  // The PG certificate also chains to the IG certificate (what PoWeb countersignatures rely on).
  out.item({
    name: 'certificate-pg-trusted-ig',
    kind: 'certificate',
    file: paths.pg,
    expect: 'valid',
    trusted_certificates: [paths.ig],
    fields: pki.certs.pg.fields,
  });
  out.item({
    name: 'certificate-pg-untrusted',
    kind: 'certificate',
    file: paths.pg,
    expect: 'invalid',
    reason: 'issuer (IG) is not among the trust anchors',
    trusted_certificates: [paths['rsa4096-self']],
    fields: pki.certs.pg.fields,
  });
  const pgDer = toBuffer(pki.certs.pg.der);
  out.item({
    name: 'certificate-truncated',
    kind: 'certificate',
    file: await out.file('certs/truncated.der', pgDer.subarray(0, pgDer.length - 40)),
    expect: 'malformed',
    reason: 'DER truncated by 40 octets',
  });
  return paths;
}
