package awalatest;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERVisibleString;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * {@code gen OUTDIR}: the artifacts an Android private gateway (awala-jvm + BC) would produce,
 * plus a few deliberately broken ones, described in manifest.json.
 */
final class Generator {
    static final String IG_ADDRESS = "gateway.example.com";

    private final Path out;
    final Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private final JsonArray items = new JsonArray();

    // Identity keys (RSA-2048, generated once per run and reused across items for speed).
    KeyPair igKey, pgKey, peKey, peerKey, strangerKey;
    X509CertificateHolder igCert, pgCert, peCert, pdaCert, cdaCert, strangerCert;

    /** A session key pair with its 8-byte id (awala-jvm SessionKeyPair). */
    record SessionKey(byte[] id, KeyPair pair) {}

    SessionKey igSession, pgSession, peSession;

    Generator(Path out) {
        this.out = out;
    }

    void run() throws Exception {
        for (String dir : List.of("certs", "keys", "plain")) {
            Files.createDirectories(out.resolve(dir));
        }
        makePki();
        igSession = sessionKey("P-256");
        pgSession = sessionKey("P-256");
        peSession = sessionKey("P-256");
        writeKey("ig-session", igSession);
        writeKey("pg-session", pgSession);
        writeKey("pe-session", peSession);

        certificateItems();
        byte[] parcel = parcelItems();
        cargoAndCcaItems(parcel);
        sessionEnvelopeItems();
        detachedSignatureItems(parcel);
        certificationPathItems();
        signedDataItems();
        new ControlVectors(this).run(parcel);
        Manifest.write(out, "bouncycastle@1.72", now, items);
        System.out.println("wrote " + items.size() + " items to " + out);
    }

    // ---- PKI ----

    private void makePki() throws Exception {
        igKey = Pki.rsaKeyPair();
        pgKey = Pki.rsaKeyPair();
        peKey = Pki.rsaKeyPair();
        peerKey = Pki.rsaKeyPair();
        strangerKey = Pki.rsaKeyPair();
        Instant start = now.minus(Duration.ofHours(3));
        // IG self-issued identity cert (CA, pathLen 2), like issueGatewayCertificate without issuer.
        igCert = Pki.issue(igKey.getPublic(), igKey.getPrivate(), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(360)), null, true, 2);
        // PG cert issued by the IG at registration (CA, pathLen 1).
        pgCert = Pki.issue(pgKey.getPublic(), igKey.getPrivate(), start, now.plus(Duration.ofDays(180)),
                igCert, true, 1);
        // Private endpoint cert issued by its PG (issueEndpointCertificate: CA, pathLen 0).
        peCert = Pki.issue(peKey.getPublic(), pgKey.getPrivate(), start, now.plus(Duration.ofDays(180)),
                pgCert, true, 0);
        // PDA: the private endpoint authorises a peer endpoint (issueDeliveryAuthorization).
        pdaCert = Pki.issue(peerKey.getPublic(), peKey.getPrivate(), start, now.plus(Duration.ofDays(30)),
                peCert, false, 0);
        // Android CDA: issued by the PG's IG-issued cert over the IG's key, valid now -> now + 14 d.
        cdaCert = Pki.issue(igKey.getPublic(), pgKey.getPrivate(), now, now.plus(Duration.ofDays(14)),
                pgCert, false, 0);
        // Unrelated self-issued CA, used as a wrong trust anchor.
        strangerCert = Pki.issue(strangerKey.getPublic(), strangerKey.getPrivate(), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(360)), null, true, 2);
        for (var entry : List.of(
                new Object[] {"ig", igCert}, new Object[] {"pg", pgCert}, new Object[] {"pe", peCert},
                new Object[] {"pda", pdaCert}, new Object[] {"cda", cdaCert}, new Object[] {"stranger", strangerCert})) {
            write("certs/" + entry[0] + ".der", ((X509CertificateHolder) entry[1]).getEncoded());
        }
        write("keys/ig-identity.spki.der", igKey.getPublic().getEncoded());
    }

    private SessionKey sessionKey(String curve) throws Exception {
        return new SessionKey(Util.randomBytes(8), Pki.ecKeyPair(curve));
    }

    private void writeKey(String name, SessionKey key) throws Exception {
        write("keys/" + name + ".pkcs8.der", key.pair().getPrivate().getEncoded());
    }

    private void certificateItems() throws Exception {
        certificateItem("certificate-ig-self-issued", "ig", igCert, null, true, 2);
        certificateItem("certificate-pg-ig-issued", "pg", pgCert, igKey, true, 1);
        certificateItem("certificate-private-endpoint", "pe", peCert, pgKey, true, 0);
        certificateItem("certificate-pda", "pda", pdaCert, peKey, false, 0);
        certificateItem("certificate-cda-android", "cda", cdaCert, pgKey, false, 0);

        // Edge cases of BC's encoding that a Rust parser must accept: a serial with the top bit
        // set (BC pads it to 9 content octets, as half of awala-jvm's serials are), and validity
        // dates from 2050 on, which BC writes as GeneralizedTime instead of UTCTime.
        java.math.BigInteger highSerial = new java.math.BigInteger(64, Util.RANDOM).setBit(63);
        X509CertificateHolder nineOctetSerial = Pki.issue(peerKey.getPublic(), peKey.getPrivate(),
                now.minus(Duration.ofHours(3)), now.plus(Duration.ofDays(30)), peCert, false, 0, highSerial);
        write("certs/pda-9-octet-serial.der", nineOctetSerial.getEncoded());
        certificateItem("certificate-9-octet-serial", "pda-9-octet-serial", nineOctetSerial, peKey, false, 0);
        X509CertificateHolder until2051 = Pki.issue(strangerKey.getPublic(), strangerKey.getPrivate(),
                now.minus(Duration.ofDays(1)), Instant.parse("2051-01-01T00:00:00Z"), null, true, 2);
        write("certs/generalized-time.der", until2051.getEncoded());
        certificateItem("certificate-generalized-time", "generalized-time", until2051, null, true, 2);
    }

    private void certificateItem(String name, String file, X509CertificateHolder cert, KeyPair issuer, boolean ca, int pathLen) {
        JsonObject fields = new JsonObject();
        fields.addProperty("subject_id", Pki.subjectId(cert));
        fields.addProperty("issuer_id", Pki.nodeId(issuer == null ? keyOf(cert) : issuer.getPublic()));
        fields.addProperty("not_before", Util.iso(cert.getNotBefore().toInstant()));
        fields.addProperty("not_after", Util.iso(cert.getNotAfter().toInstant()));
        fields.addProperty("is_ca", ca);
        fields.addProperty("path_len", pathLen);
        item(name, "certificate", "certs/" + file + ".der", "valid", null).add("fields", fields);
    }

    private java.security.PublicKey keyOf(X509CertificateHolder cert) {
        try {
            return Pki.toJca(cert).getPublicKey();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- RAMF messages ----

    /** Writes the parcel items; returns the serialization of the main valid parcel. */
    private byte[] parcelItems() throws Exception {
        byte[] serviceMessage = serviceMessage("application/vnd.awala.test", "Hello from Bouncy Castle".getBytes(StandardCharsets.UTF_8));
        write("plain/service-message.der", serviceMessage);
        JsonObject sm = item("service-message", "service_message", "plain/service-message.der", "valid", null);
        JsonObject smFields = new JsonObject();
        smFields.addProperty("content_type", "application/vnd.awala.test");
        smFields.addProperty("content_sha256", Util.sha256Hex("Hello from Bouncy Castle".getBytes(StandardCharsets.UTF_8)));
        sm.add("fields", smFields);

        String peId = Pki.subjectId(peCert);
        List<X509CertificateHolder> pdaChain = List.of(peCert, pgCert);
        Instant recent = now.minus(Duration.ofMinutes(10));

        byte[] payload = envelope(serviceMessage, peSession);
        byte[] valid = ramf("parcel-valid-sha256", "parcel", new Ramf.Fields(peId, null, "parcel-1", recent, 86400, payload),
                peerKey, pdaCert, pdaChain, "sha256", "valid", null, List.of("certs/ig.der"), "pe-session", "plain/service-message.der");
        ramf("parcel-valid-sha512", "parcel", new Ramf.Fields(peId, null, "parcel-2", recent, 86400, payload),
                peerKey, pdaCert, pdaChain, "sha512", "valid", null, List.of("certs/ig.der"), null, null);
        // Internet-bound parcel from a private endpoint: no trust anchors, only timing + sender cert.
        ramf("parcel-internet-bound", "parcel", new Ramf.Fields(Pki.nodeId(peerKey.getPublic()), "endpoint.example.com",
                        java.util.UUID.randomUUID().toString(), recent, 3600, "opaque".getBytes(StandardCharsets.US_ASCII)),
                peKey, peCert, List.of(pgCert), "sha256", "valid", null, null, null, null);
        ramf("parcel-expired", "parcel", new Ramf.Fields(peId, null, "parcel-expired", now.minus(Duration.ofDays(2)), 3600, payload),
                peerKey, pdaCert, pdaChain, "sha256", "invalid", "expired", List.of("certs/ig.der"), null, null);
        ramf("parcel-future", "parcel", new Ramf.Fields(peId, null, "parcel-future", now.plus(Duration.ofHours(1)), 3600, payload),
                peerKey, pdaCert, pdaChain, "sha256", "invalid", "creation date in the future", List.of("certs/ig.der"), null, null);
        ramf("parcel-wrong-recipient", "parcel", new Ramf.Fields(Pki.subjectId(pgCert), null, "parcel-wrong-recipient", recent, 3600, payload),
                peerKey, pdaCert, pdaChain, "sha256", "invalid", "path[1] is the private endpoint, not the recipient",
                List.of("certs/ig.der"), null, null);
        ramf("parcel-untrusted", "parcel", new Ramf.Fields(peId, null, "parcel-untrusted", recent, 3600, payload),
                peerKey, pdaCert, pdaChain, "sha256", "invalid", "no path to the trusted certificate",
                List.of("certs/stranger.der"), null, null);

        // Malformed: a flipped payload octet breaks the messageDigest (libraries reject at deserialisation).
        byte[] tampered = valid.clone();
        byte[] fieldSet = Ramf.fieldSet(new Ramf.Fields(peId, null, "parcel-1", recent, 86400, payload));
        int at = indexOf(tampered, fieldSet);
        tampered[at + fieldSet.length - 1] ^= 0x01;
        rawItem("parcel-tampered", "parcel", tampered, "malformed", "signature does not verify (content altered)");
        byte[] wrongType = valid.clone();
        wrongType[5] = Ramf.CARGO;
        rawItem("parcel-wrong-type-octet", "parcel", wrongType, "malformed", "format signature is that of cargo");
        rawItem("parcel-truncated", "parcel", Arrays.copyOf(valid, valid.length / 2), "malformed", "truncated");
        return valid;
    }

    private void cargoAndCcaItems(byte[] parcel) throws Exception {
        String igId = Pki.subjectId(igCert);
        String pgId = Pki.subjectId(pgCert);
        // PCA and CargoMessageSet exactly as awala-jvm encodes them.
        byte[] pca = Util.concat(new byte[] {'A', 'w', 'a', 'l', 'a', 0x51, 0x00}, implicitSequence(
                new DERVisibleString(Pki.nodeId(peerKey.getPublic())), new DERVisibleString(Pki.subjectId(peCert)),
                new DERVisibleString("parcel-0")));
        write("plain/pca.der", pca);
        JsonObject pcaFields = new JsonObject();
        pcaFields.addProperty("sender_endpoint_id", Pki.nodeId(peerKey.getPublic()));
        pcaFields.addProperty("recipient_endpoint_id", Pki.subjectId(peCert));
        pcaFields.addProperty("parcel_id", "parcel-0");
        item("pca", "pca", "plain/pca.der", "valid", null).add("fields", pcaFields);

        ASN1EncodableVector messages = new ASN1EncodableVector();
        messages.add(new DEROctetString(parcel));
        messages.add(new DEROctetString(pca));
        byte[] messageSet = new DERSequence(messages).getEncoded(ASN1Encoding.DER);
        write("plain/cargo-message-set.der", messageSet);
        JsonObject cmsFields = new JsonObject();
        cmsFields.add("messages_sha256", Manifest.strings(List.of(Util.sha256Hex(parcel), Util.sha256Hex(pca))));
        item("cargo-message-set", "cargo_message_set", "plain/cargo-message-set.der", "valid", null).add("fields", cmsFields);

        // Android cargo: creation now - 90 min, to {IG id, IG address}, sender = PG cert, no chain.
        Instant creation = now.minus(Duration.ofMinutes(90));
        ramf("cargo-pg-to-ig", "cargo", new Ramf.Fields(igId, IG_ADDRESS, java.util.UUID.randomUUID().toString(), creation, 86400,
                        envelope(messageSet, igSession)),
                pgKey, pgCert, List.of(), "sha256", "valid", null, List.of("certs/ig.der"), "ig-session", "plain/cargo-message-set.der");
        // What an IG sends back (for parsers on both sides): sender = the Android CDA, signed with the
        // IG key, no address, back-dated 3 h; the PG validates it against its IG-issued cert.
        ramf("cargo-ig-to-pg", "cargo", new Ramf.Fields(pgId, null, java.util.UUID.randomUUID().toString(), now.minus(Duration.ofHours(3)),
                        86400, envelope(messageSet, pgSession)),
                igKey, cdaCert, List.of(), "sha256", "valid", null, List.of("certs/pg.der"), "pg-session", "plain/cargo-message-set.der");

        // CCR carrying the Android CDA, then the CCA (TTL 14 d) as Android builds it.
        byte[] ccr = implicitSequence(new DEROctetString(cdaCert.getEncoded()));
        write("plain/ccr.der", ccr);
        JsonObject ccrFields = new JsonObject();
        ccrFields.addProperty("cda_sha256", Util.sha256Hex(cdaCert.getEncoded()));
        item("ccr", "ccr", "plain/ccr.der", "valid", null).add("fields", ccrFields);
        ramf("cca-valid", "cca", new Ramf.Fields(igId, IG_ADDRESS, java.util.UUID.randomUUID().toString(), creation, 14 * 86400,
                        envelope(ccr, igSession)),
                pgKey, pgCert, List.of(), "sha256", "valid", null, List.of("certs/ig.der"), "ig-session", "plain/ccr.der");
        ramf("cca-untrusted", "cca", new Ramf.Fields(igId, IG_ADDRESS, java.util.UUID.randomUUID().toString(), creation, 14 * 86400,
                        envelope(ccr, igSession)),
                pgKey, pgCert, List.of(), "sha256", "invalid", "no path to the trusted certificate",
                List.of("certs/stranger.der"), null, null);
    }

    /** Build, sign and record one RAMF item. */
    private byte[] ramf(String name, String kind, Ramf.Fields f, KeyPair signerKey, X509CertificateHolder sender,
            List<X509CertificateHolder> cas, String hash, String expect, String reason, List<String> trusted,
            String decryptKey, String decryptPlaintext) throws Exception {
        byte[] bytes = Ramf.serialize(Ramf.type(kind), f, signerKey.getPrivate(), sender, cas, hash);
        JsonObject item = rawItem(name, kind, bytes, expect, reason);
        JsonObject fields = new JsonObject();
        fields.addProperty("id", f.id());
        fields.addProperty("recipient_id", f.recipientId());
        fields.add("recipient_internet_address", Manifest.stringOrNull(f.internetAddress()));
        fields.addProperty("creation_date", Util.iso(f.creation()));
        fields.addProperty("ttl", f.ttl());
        fields.addProperty("payload_sha256", Util.sha256Hex(f.payload()));
        fields.addProperty("sender_id", Pki.subjectId(sender));
        fields.addProperty("sender_ca_count", cas.size());
        item.add("fields", fields);
        if (trusted != null) {
            item.add("trusted_certificates", Manifest.strings(trusted));
        }
        if (decryptKey != null) {
            item.add("decrypt", decrypt(decryptKey, decryptPlaintext));
        }
        return bytes;
    }

    // ---- Session envelopes ----

    private void sessionEnvelopeItems() throws Exception {
        for (String curve : List.of("P-256", "P-384", "P-521")) {
            String tag = curve.toLowerCase().replace("-", "");
            SessionKey recipient = sessionKey(curve);
            writeKey("recipient-" + tag, recipient);
            byte[] plaintext = ("session envelope on " + curve).getBytes(StandardCharsets.US_ASCII);
            envelopeItem("session-envelope-" + tag, recipient, curve, plaintext, "recipient-" + tag, "valid", null);
            if (curve.equals("P-256")) {
                // > 1 000 bytes: BC switches encryptedContent to a constructed, indefinite-length string.
                byte[] large = new byte[2500];
                for (int i = 0; i < large.length; i++) {
                    large[i] = (byte) (i % 251);
                }
                envelopeItem("session-envelope-p256-large", recipient, curve, large, "recipient-" + tag, "valid", null);
                envelopeItem("session-envelope-wrong-key", recipient, curve, plaintext, "pg-session", "invalid",
                        "decryption key is not the recipient's");
            }
        }
    }

    private void envelopeItem(String name, SessionKey recipient, String curve, byte[] plaintext, String keyName,
            String expect, String reason) throws Exception {
        SessionKey originator = sessionKey(curve);
        byte[] bytes = Cms.encrypt(plaintext, recipient.id(), recipient.pair().getPublic(), originator.pair(), originator.id());
        JsonObject item = rawItem(name, "session_envelope", bytes, expect, reason);
        write("plain/" + name + ".bin", plaintext);
        JsonObject fields = new JsonObject();
        fields.addProperty("recipient_key_id", Util.hex(recipient.id()));
        fields.addProperty("originator_key_id", Util.hex(originator.id()));
        fields.addProperty("curve", curve);
        item.add("fields", fields);
        item.add("decrypt", decrypt(keyName, "plain/" + name + ".bin"));
    }

    private byte[] envelope(byte[] plaintext, SessionKey recipient) throws Exception {
        SessionKey originator = sessionKey("P-256");
        return Cms.encrypt(plaintext, recipient.id(), recipient.pair().getPublic(), originator.pair(), originator.id());
    }

    // ---- Detached signatures, paths, plain SignedData ----

    private void detachedSignatureItems(byte[] parcel) throws Exception {
        byte[] nonce = Util.randomBytes(16);
        write("plain/nonce.bin", nonce);
        write("plain/parcel-valid-sha256.bin", parcel);
        detachedItem("detached-parcel-delivery", "1.3.6.1.4.1.58708.0.3.0", "1.3.6.1.4.1.58708.0.3.0",
                parcel, "plain/parcel-valid-sha256.bin", "valid", null);
        detachedItem("detached-nonce", "1.3.6.1.4.1.58708.0.3.1", "1.3.6.1.4.1.58708.0.3.1",
                nonce, "plain/nonce.bin", "valid", null);
        detachedItem("detached-nonce-wrong-oid", "1.3.6.1.4.1.58708.0.3.0", "1.3.6.1.4.1.58708.0.3.1",
                nonce, "plain/nonce.bin", "invalid", "signed as a parcel-delivery signature, checked as a nonce signature");
    }

    private void detachedItem(String name, String signOid, String checkOid, byte[] plaintext, String plaintextFile,
            String expect, String reason) throws Exception {
        byte[] safe = safePlaintext(signOid, plaintext);
        byte[] bytes = Cms.sign(safe, pgKey.getPrivate(), pgCert, List.of(pgCert), "sha256", false);
        JsonObject item = rawItem(name, "detached_signature", bytes, expect, reason);
        JsonObject fields = new JsonObject();
        fields.addProperty("signer_id", Pki.subjectId(pgCert));
        item.add("fields", fields);
        item.add("trusted_certificates", Manifest.strings(List.of("certs/ig.der")));
        JsonObject detached = new JsonObject();
        detached.addProperty("plaintext", plaintextFile);
        detached.addProperty("oid", checkOid);
        item.add("detached", detached);
    }

    /** SEQUENCE { [0] IMPLICIT OID, [1] IMPLICIT OCTET STRING }, as awala-jvm's makePlaintextSafe. */
    static byte[] safePlaintext(String oid, byte[] plaintext) throws Exception {
        return implicitSequence(new org.bouncycastle.asn1.ASN1ObjectIdentifier(oid), new DEROctetString(plaintext));
    }

    private void certificationPathItems() throws Exception {
        pathItem("certification-path-pg", "certification_path", CertPaths.encodeJvm(pgCert, List.of(igCert)),
                pgCert, List.of(igCert), "jvm");
        pathItem("certification-path-pda", "certification_path",
                CertPaths.encodeJvm(pdaCert, List.of(peCert, pgCert, igCert)), pdaCert, List.of(peCert, pgCert, igCert), "jvm");
        pathItem("certification-path-js-form", "certification_path", CertPaths.encodeJs(pgCert, List.of(igCert)),
                pgCert, List.of(igCert), "js");
        pathItem("certificate-rotation", "certificate_rotation",
                Util.concat(CertPaths.ROTATION_SIGNATURE, CertPaths.encodeJvm(pgCert, List.of(igCert))),
                pgCert, List.of(igCert), "jvm");
    }

    private void pathItem(String name, String kind, byte[] bytes, X509CertificateHolder leaf,
            List<X509CertificateHolder> cas, String encoding) throws Exception {
        JsonObject item = rawItem(name, kind, bytes, "valid", null);
        JsonObject fields = new JsonObject();
        fields.addProperty("leaf_sha256", Util.sha256Hex(leaf.getEncoded()));
        List<String> digests = new ArrayList<>();
        for (X509CertificateHolder ca : cas) {
            digests.add(Util.sha256Hex(ca.getEncoded()));
        }
        fields.add("ca_sha256", Manifest.strings(digests));
        fields.addProperty("encoding", encoding);
        item.add("fields", fields);
    }

    private void signedDataItems() throws Exception {
        byte[] plaintext = "signed by Bouncy Castle".getBytes(StandardCharsets.US_ASCII);
        for (String hash : List.of("sha256", "sha384", "sha512")) {
            byte[] bytes = Cms.sign(plaintext, pgKey.getPrivate(), pgCert, List.of(pgCert), hash, true);
            JsonObject item = rawItem("signed-data-" + hash, "signed_data", bytes, "valid", null);
            JsonObject fields = new JsonObject();
            fields.addProperty("plaintext_sha256", Util.sha256Hex(plaintext));
            fields.addProperty("signer_id", Pki.subjectId(pgCert));
            fields.addProperty("hash", hash);
            item.add("fields", fields);
        }
    }

    // ---- helpers ----

    static byte[] serviceMessage(String type, byte[] content) throws Exception {
        return implicitSequence(new DERVisibleString(type), new DEROctetString(content));
    }

    static byte[] implicitSequence(org.bouncycastle.asn1.ASN1Encodable... items) throws Exception {
        return PlainChecks.implicitSequence(items);
    }

    private JsonObject decrypt(String keyName, String plaintextFile) {
        JsonObject decrypt = new JsonObject();
        decrypt.addProperty("session_private_key", "keys/" + keyName + ".pkcs8.der");
        decrypt.addProperty("plaintext", plaintextFile);
        return decrypt;
    }

    JsonObject rawItem(String name, String kind, byte[] bytes, String expect, String reason) throws Exception {
        String file = name + ".der";
        write(file, bytes);
        return item(name, kind, file, expect, reason);
    }

    JsonObject item(String name, String kind, String file, String expect, String reason) {
        JsonObject item = new JsonObject();
        item.addProperty("name", name);
        item.addProperty("kind", kind);
        item.addProperty("file", file);
        item.addProperty("expect", expect);
        if (reason != null) {
            item.addProperty("reason", reason);
        }
        item.addProperty("validate_at", Util.iso(now));
        items.add(item);
        return item;
    }

    void write(String relative, byte[] bytes) throws Exception {
        Files.write(out.resolve(relative), bytes);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalStateException("field set not found in serialization");
    }
}
