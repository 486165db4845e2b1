// Key (de)serialisation used on both sides of the harness.
import { createPrivateKey } from 'node:crypto';
import {
  derDeserializeECDHPrivateKey,
  derDeserializeECDHPublicKey,
  derDeserializeRSAPublicKey,
  derSerializePrivateKey,
  derSerializePublicKey,
} from './relaynet.mjs';

const CURVE_BY_OPENSSL_NAME = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

export const exportSpki = (publicKey) => derSerializePublicKey(publicKey);
export const exportPkcs8 = (privateKey) => derSerializePrivateKey(privateKey);

/**
 * relaynet-core's importer needs the curve up front (and its PrivateKeyStore always assumes
 * P-256), so read the curve from the PKCS#8 structure with Node's own parser first.
 */
export function curveOfPkcs8(der) {
  const details = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).asymmetricKeyDetails;
  const curve = CURVE_BY_OPENSSL_NAME[details?.namedCurve];
  if (!curve) throw new Error(`Unsupported session key curve ${details?.namedCurve}`);
  return curve;
}

export async function importSessionPrivateKey(der) {
  return derDeserializeECDHPrivateKey(der, curveOfPkcs8(der));
}

export async function importSessionPublicKey(der, curve) {
  return derDeserializeECDHPublicKey(der, curve);
}

export const importRsaPublicKey = (der) => derDeserializeRSAPublicKey(der);
