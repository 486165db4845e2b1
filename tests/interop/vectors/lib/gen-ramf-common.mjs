// Helpers shared by the RAMF (parcel, cargo, CCA) item generators.
import { SessionEnvelopedData } from './relaynet.mjs';
import { isoSeconds, sha256Hex, toArrayBuffer, toBuffer } from './util.mjs';

export function ramfFields(message, { sender, senderCaCount, payload }) {
  return {
    id: message.id,
    recipient_id: message.recipient.id,
    recipient_internet_address: message.recipient.internetAddress ?? null,
    creation_date: isoSeconds(message.creationDate),
    ttl: message.ttl,
    payload_sha256: sha256Hex(payload),
    sender_id: sender,
    sender_ca_count: senderCaCount,
  };
}

export async function encryptTo(session, plaintext) {
  const { envelopedData } = await SessionEnvelopedData.encrypt(toArrayBuffer(plaintext), session.pair.sessionKey);
  return toBuffer(envelopedData.serialize());
}

/** The RAMF payload decryption block (MANIFEST.md `decrypt`, plus our `session_key_id`). */
export async function decryptBlock(out, pki, sessionName, plaintextName, plaintext) {
  const session = pki.sessions[sessionName];
  return {
    session_private_key: await out.file(`keys/${sessionName}-session.pkcs8.der`, session.pkcs8),
    session_key_id: session.keyIdHex,
    plaintext: await out.file(`plain/${plaintextName}.bin`, plaintext),
  };
}
