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
import java.util.List;
import org.bouncycastle.asn1.DEROctetString;
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
        RamfVectors ramf = new RamfVectors(this);
        byte[] parcel = ramf.parcelItems();
        ramf.cargoAndCcaItems(parcel);
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

    byte[] envelope(byte[] plaintext, SessionKey recipient) throws Exception {
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

    JsonObject decrypt(String keyName, String plaintextFile) {
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

}
