// The PKI behind every generated item: one realistic Awala deployment (Internet gateway,
// private gateway, private endpoint, peer endpoint) plus a few odd certificates. Keys are shared
// by all items to keep the run short.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import {
  derDeserializeRSAPrivateKey,
  generateECDHKeyPair,
  getIdFromIdentityKey,
  getRSAPublicKeyFromPrivate,
  issueDeliveryAuthorization,
  issueEndpointCertificate,
  issueGatewayCertificate,
  NODE_ENGINE,
  SessionKeyPair,
} from './relaynet.mjs';
import { exportPkcs8, exportSpki } from './keys.mjs';
import { addSeconds, DAY, HOUR, isoSeconds, toBuffer } from './util.mjs';

/**
 * RSA identity key pair, loaded the way relaynet-core key stores load identity keys (PKCS#8 via
 * `derDeserializeRSAPrivateKey`: RSA-PSS with SHA-256). The library's `generateRSAKeyPair` runs
 * synchronously on the main thread (~15 s for the six keys here); Node's async generator runs
 * them in parallel on the thread pool.
 */
async function makeNode(modulusLength = 2048) {
  const { privateKey: pkcs8 } = await promisify(generateKeyPair)('rsa', {
    modulusLength,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  const privateKey = await derDeserializeRSAPrivateKey(pkcs8);
  const publicKey = await getRSAPublicKeyFromPrivate(privateKey);
  return {
    privateKey,
    publicKey,
    id: await getIdFromIdentityKey(publicKey),
    spki: await exportSpki(publicKey),
  };
}

/**
 * Session key pair on any curve. `SessionKeyPair.generate()` only makes P-256 keys, so other
 * curves are built the same way by hand (8 random bytes as the key id, like the library).
 */
async function makeSessionKeyPair(curve) {
  if (curve === 'P-256') return withSessionMeta(await SessionKeyPair.generate(), curve);
  const keyPair = await generateECDHKeyPair(curve);
  const sessionKey = { keyId: randomBytes(8), publicKey: keyPair.publicKey };
  return withSessionMeta(new SessionKeyPair(sessionKey, keyPair.privateKey), curve);
}

async function withSessionMeta(pair, curve) {
  return {
    pair,
    curve,
    keyIdHex: toBuffer(pair.sessionKey.keyId).toString('hex'),
    pkcs8: await exportPkcs8(pair.privateKey),
    spki: await exportSpki(pair.sessionKey.publicKey),
  };
}

/**
 * relaynet-core draws serial numbers as 8 random octets, clamping only the first to <= 0x7F, and
 * asn1js encodes them verbatim. When the first octet is 0x00 and the second < 0x80 (1 in 512
 * certificates) the INTEGER is not minimal, i.e. not DER. Force that case once so parsers meet it.
 */
async function withLeadingZeroSerial(issue) {
  const original = NODE_ENGINE.getRandomValues;
  NODE_ENGINE.getRandomValues = function patched(array) {
    const result = original.call(this, array);
    if (array.length === 8) {
      array[0] = 0x00;
      array[1] &= 0x7f;
    }
    return result;
  };
  try {
    return await issue();
  } finally {
    NODE_ENGINE.getRandomValues = original;
  }
}

/** Certificate plus what a checker must find in it (MANIFEST.md `certificate` fields). */
async function certRecord(cert, subject, issuer, start, end, isCa, pathLen) {
  return {
    cert,
    der: cert.serialize(),
    fields: {
      subject_id: subject.id,
      issuer_id: issuer.id,
      not_before: isoSeconds(start),
      not_after: isoSeconds(end),
      is_ca: isCa,
      path_len: pathLen,
    },
  };
}

export async function buildPki(now) {
  const [ig, pg, pe, peer, rsa3072, rsa4096] = await Promise.all([
    makeNode(),
    makeNode(),
    makeNode(),
    makeNode(),
    makeNode(3072),
    makeNode(4096),
  ]);

  // Validity periods follow what real nodes do (protocol notes §1.5): back-dated starts give
  // peers clock-drift slack, and every end date stays within the issuer's to avoid clamping.
  const dates = {
    igStart: addSeconds(now, -3 * HOUR),
    igEnd: addSeconds(now, 360 * DAY),
    pgStart: addSeconds(now, -3 * HOUR),
    pgEnd: addSeconds(now, 180 * DAY),
    pgSelfStart: addSeconds(now, -90 * 60),
    peEnd: addSeconds(now, 170 * DAY),
    pdaEnd: addSeconds(now, 90 * DAY),
    cdaEnd: addSeconds(now, 14 * DAY),
  };

  const igCert = await issueGatewayCertificate({
    issuerPrivateKey: ig.privateKey,
    subjectPublicKey: ig.publicKey,
    validityStartDate: dates.igStart,
    validityEndDate: dates.igEnd,
  });
  const pgCert = await issueGatewayCertificate({
    issuerCertificate: igCert,
    issuerPrivateKey: ig.privateKey,
    subjectPublicKey: pg.publicKey,
    validityStartDate: dates.pgStart,
    validityEndDate: dates.pgEnd,
  });
  const peCert = await issueEndpointCertificate({
    issuerCertificate: pgCert,
    issuerPrivateKey: pg.privateKey,
    subjectPublicKey: pe.publicKey,
    validityStartDate: dates.pgStart,
    validityEndDate: dates.peEnd,
  });
  const pda = await issueDeliveryAuthorization({
    issuerCertificate: peCert,
    issuerPrivateKey: pe.privateKey,
    subjectPublicKey: peer.publicKey,
    validityStartDate: dates.pgStart,
    validityEndDate: dates.pdaEnd,
  });
  // The desktop (JS) gateway issues CDAs from its self-issued certificate...
  const pgSelfCert = await issueGatewayCertificate({
    issuerPrivateKey: pg.privateKey,
    subjectPublicKey: pg.publicKey,
    validityStartDate: dates.pgSelfStart,
    validityEndDate: dates.pgEnd,
  });
  const cda = await issueGatewayCertificate({
    issuerCertificate: pgSelfCert,
    issuerPrivateKey: pg.privateKey,
    subjectPublicKey: ig.publicKey,
    validityStartDate: now,
    validityEndDate: dates.cdaEnd,
  });
  // ...whereas the Android gateway issues a non-CA one from its IG-issued certificate.
  const cdaJvmStyle = await issueDeliveryAuthorization({
    issuerCertificate: pgCert,
    issuerPrivateKey: pg.privateKey,
    subjectPublicKey: ig.publicKey,
    validityStartDate: now,
    validityEndDate: dates.cdaEnd,
  });
  const pdaLeadingZeroSerial = await withLeadingZeroSerial(() =>
    issueDeliveryAuthorization({
      issuerCertificate: peCert,
      issuerPrivateKey: pe.privateKey,
      subjectPublicKey: peer.publicKey,
      validityStartDate: dates.pgStart,
      validityEndDate: dates.pdaEnd,
    }),
  );
  if (pdaLeadingZeroSerial.getSerialNumber()[0] !== 0) throw new Error('Could not force a 0x00-led serial number');
  // Internet endpoints self-issue their certificates.
  const peerSelfCert = await issueEndpointCertificate({
    issuerPrivateKey: peer.privateKey,
    subjectPublicKey: peer.publicKey,
    validityStartDate: dates.pgStart,
    validityEndDate: dates.pdaEnd,
  });
  const selfIssued = (node, start, end) =>
    issueGatewayCertificate({
      issuerPrivateKey: node.privateKey,
      subjectPublicKey: node.publicKey,
      validityStartDate: start,
      validityEndDate: end,
    });
  const rsa3072Cert = await selfIssued(rsa3072, dates.igStart, addSeconds(now, 30 * DAY));
  const rsa4096Cert = await selfIssued(rsa4096, dates.igStart, addSeconds(now, 30 * DAY));
  const expiredCert = await issueEndpointCertificate({
    issuerPrivateKey: peer.privateKey,
    subjectPublicKey: peer.publicKey,
    validityStartDate: addSeconds(now, -20 * DAY),
    validityEndDate: addSeconds(now, -10 * DAY),
  });
  const futureCert = await issueEndpointCertificate({
    issuerPrivateKey: peer.privateKey,
    subjectPublicKey: peer.publicKey,
    validityStartDate: addSeconds(now, 1 * DAY),
    validityEndDate: addSeconds(now, 10 * DAY),
  });

  const certs = {
    ig: await certRecord(igCert, ig, ig, dates.igStart, dates.igEnd, true, 2),
    pg: await certRecord(pgCert, pg, ig, dates.pgStart, dates.pgEnd, true, 1),
    pe: await certRecord(peCert, pe, pg, dates.pgStart, dates.peEnd, true, 0),
    pda: await certRecord(pda, peer, pe, dates.pgStart, dates.pdaEnd, false, 0),
    'pda-serial-leading-zero': await certRecord(pdaLeadingZeroSerial, peer, pe, dates.pgStart, dates.pdaEnd, false, 0),
    'pg-self': await certRecord(pgSelfCert, pg, pg, dates.pgSelfStart, dates.pgEnd, true, 2),
    cda: await certRecord(cda, ig, pg, now, dates.cdaEnd, true, 1),
    'cda-jvm-style': await certRecord(cdaJvmStyle, ig, pg, now, dates.cdaEnd, false, 0),
    'peer-self': await certRecord(peerSelfCert, peer, peer, dates.pgStart, dates.pdaEnd, true, 0),
    'rsa3072-self': await certRecord(rsa3072Cert, rsa3072, rsa3072, dates.igStart, addSeconds(now, 30 * DAY), true, 2),
    'rsa4096-self': await certRecord(rsa4096Cert, rsa4096, rsa4096, dates.igStart, addSeconds(now, 30 * DAY), true, 2),
    expired: await certRecord(expiredCert, peer, peer, addSeconds(now, -20 * DAY), addSeconds(now, -10 * DAY), true, 0),
    'not-yet-valid': await certRecord(futureCert, peer, peer, addSeconds(now, DAY), addSeconds(now, 10 * DAY), true, 0),
  };

  const sessions = {
    igP256: await makeSessionKeyPair('P-256'),
    igP384: await makeSessionKeyPair('P-384'),
    igP521: await makeSessionKeyPair('P-521'),
    igOther: await makeSessionKeyPair('P-256'),
    pgP256: await makeSessionKeyPair('P-256'),
    peP256: await makeSessionKeyPair('P-256'),
  };

  return { now, nodes: { ig, pg, pe, peer, rsa3072, rsa4096 }, certs, sessions, igAddress: 'gateway.example.com' };
}
