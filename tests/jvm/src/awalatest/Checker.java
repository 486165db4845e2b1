package awalatest;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;

/**
 * {@code check INDIR}: checks another implementation's manifest with Bouncy Castle, following
 * "Meaning of expect" in tests/interop/MANIFEST.md. Parsing problems raise {@link Malformed},
 * validation/decryption failures {@link Invalid}, wrong field values {@link Mismatch}.
 */
final class Checker {
    /** The item does not parse (for RAMF: includes a signature that does not verify, as in awala-jvm). */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message);
        }
    }

    /** The item parses but validation or decryption fails. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }

    /** A field differs from the manifest: always a failure, whatever `expect` says. */
    static final class Mismatch extends Exception {
        Mismatch(String message) {
            super(message);
        }
    }

    /** This checker has no business with the item. */
    static final class Skip extends Exception {
        Skip(String message) {
            super(message);
        }
    }

    /** What one item's check sees: its JSON, directory and validation clock. */
    record Item(JsonObject json, Path dir, Instant at) {
        String name() {
            return json.get("name").getAsString();
        }

        String kind() {
            return json.get("kind").getAsString();
        }

        byte[] file(String relative) throws Exception {
            return Files.readAllBytes(dir.resolve(relative));
        }

        byte[] bytes() throws Exception {
            return file(json.get("file").getAsString());
        }

        JsonObject fields() {
            return json.has("fields") ? json.getAsJsonObject("fields") : new JsonObject();
        }

        JsonObject section(String key) {
            return json.has(key) && !json.get(key).isJsonNull() ? json.getAsJsonObject(key) : null;
        }

        /** Trust anchors, or null when the manifest gives none. */
        List<X509CertificateHolder> trusted() throws Exception {
            if (!json.has("trusted_certificates") || json.get("trusted_certificates").isJsonNull()) {
                return null;
            }
            List<X509CertificateHolder> certs = new ArrayList<>();
            for (JsonElement path : json.getAsJsonArray("trusted_certificates")) {
                certs.add(new X509CertificateHolder(file(path.getAsString())));
            }
            return certs;
        }

        PrivateKey sessionKey(String relative) throws Exception {
            return KeyFactory.getInstance("EC", Util.BC).generatePrivate(new PKCS8EncodedKeySpec(file(relative)));
        }
    }

    private Checker() {}

    static int run(Path dir) throws Exception {
        JsonObject manifest = Manifest.read(dir);
        Instant createdAt = Instant.parse(manifest.get("created_at").getAsString());
        int passed = 0, failed = 0, skipped = 0;
        for (JsonElement element : manifest.getAsJsonArray("items")) {
            JsonObject json = element.getAsJsonObject();
            String name = Manifest.optString(json, "name");
            String expect = Manifest.optString(json, "expect");
            Item item;
            try {
                String validateAt = Manifest.optString(json, "validate_at");
                item = new Item(json, dir, validateAt == null ? createdAt : Instant.parse(validateAt));
                if (name == null || json.get("kind") == null || json.get("file") == null || expect == null) {
                    throw new IllegalArgumentException("name, kind, file and expect are required");
                }
            } catch (RuntimeException e) {
                // A broken manifest entry fails on its own instead of aborting the whole run.
                System.out.println("FAIL " + name + ": bad manifest item: " + e.getMessage());
                failed++;
                continue;
            }
            String outcome;
            String detail = null;
            try {
                check(item);
                outcome = "valid";
            } catch (Malformed e) {
                outcome = "malformed";
                detail = e.getMessage();
            } catch (Invalid e) {
                outcome = "invalid";
                detail = e.getMessage();
            } catch (Mismatch e) {
                outcome = "mismatch";
                detail = e.getMessage();
            } catch (Skip e) {
                System.out.println("skip " + item.name() + ": " + e.getMessage());
                skipped++;
                continue;
            } catch (Exception e) {
                outcome = "error";
                detail = e.toString();
            }
            if (outcome.equals(expect)) {
                System.out.println("ok " + item.name());
                if (detail != null && System.getenv("VERBOSE") != null) {
                    System.err.println("  (" + outcome + ": " + detail + ")"); // why an invalid item was rejected
                }
                passed++;
            } else {
                String why = outcome.equals("mismatch") || outcome.equals("error")
                        ? detail
                        : "expected " + expect + ", got " + outcome + (detail == null ? "" : " (" + detail + ")");
                System.out.println("FAIL " + item.name() + ": " + why);
                failed++;
            }
        }
        System.out.println(passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : ""));
        return failed > 0 ? 1 : 0;
    }

    private static void check(Item item) throws Exception {
        switch (item.kind()) {
            case "parcel", "cargo", "cca" -> checkRamf(item);
            case "certificate" -> checkCertificate(item);
            case "session_envelope" -> checkEnvelope(item);
            case "detached_signature" -> checkDetached(item);
            case "signed_data" -> checkSignedData(item);
            case "certification_path", "certificate_rotation" -> checkPath(item);
            default -> PlainChecks.check(item);
        }
    }

    // ---- RAMF ----

    private static void checkRamf(Item item) throws Exception {
        Ramf.Message message = Ramf.parse(item.bytes(), Ramf.type(item.kind()));
        Ramf.Fields f = message.fields();
        Fields expected = new Fields(item);
        expected.string("id", f.id());
        expected.string("recipient_id", f.recipientId());
        expected.string("recipient_internet_address", f.internetAddress());
        expected.date("creation_date", f.creation());
        expected.number("ttl", f.ttl());
        expected.string("payload_sha256", Util.sha256Hex(f.payload()));
        expected.string("sender_id", Pki.subjectId(message.sender()));
        expected.number("sender_ca_count", message.cas().size());

        // RAMFMessage.validate(): timing first, then the sender cert, then authorisation.
        Instant now = item.at();
        if (now.isBefore(f.creation())) {
            throw new Invalid("creation date is in the future");
        }
        if (f.creation().plusSeconds(f.ttl()).isBefore(now)) {
            throw new Invalid("message expired");
        }
        Pki.checkValidity(message.sender(), now);
        if (message.sender().getSubject().getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN).length == 0) {
            throw new Invalid("sender certificate has no Common Name"); // awala-jvm Certificate.validate()
        }
        List<X509CertificateHolder> trusted = item.trusted();
        if (trusted != null) {
            List<X509Certificate> path;
            try {
                path = Pki.buildPath(message.sender(), message.cas(), trusted, now);
            } catch (Exception e) {
                throw new Invalid("sender is not trusted: " + e.getMessage());
            }
            if (path.size() < 2 || !Pki.subjectId(path.get(1)).equals(f.recipientId())) {
                throw new Invalid("sender is authorised by the wrong recipient");
            }
        }
        decryptAndCompare(item, f.payload());
    }

    /** Decrypt {@code envelope} with the manifest's key, if any, and compare the plaintext. */
    private static void decryptAndCompare(Item item, byte[] envelope) throws Exception {
        JsonObject decrypt = item.section("decrypt");
        if (decrypt == null) {
            return;
        }
        Cms.Envelope parsed;
        try {
            parsed = Cms.parseEnvelope(envelope);
        } catch (Malformed e) {
            throw new Invalid("payload: " + e.getMessage());
        }
        byte[] plaintext = Cms.decrypt(parsed, item.sessionKey(decrypt.get("session_private_key").getAsString()));
        byte[] expected = item.file(decrypt.get("plaintext").getAsString());
        if (!Arrays.equals(plaintext, expected)) {
            throw new Mismatch("decrypted plaintext differs (sha256 " + Util.sha256Hex(plaintext) + ")");
        }
    }

    // ---- Certificates and paths ----

    private static void checkCertificate(Item item) throws Exception {
        X509CertificateHolder cert;
        try {
            cert = new X509CertificateHolder(item.bytes());
            Pki.toJca(cert);
        } catch (Exception e) {
            throw new Malformed("certificate: " + e);
        }
        Fields expected = new Fields(item);
        CertInfo info = CertInfo.of(cert);
        expected.string("subject_id", Pki.subjectId(cert));
        expected.string("issuer_id", info.issuerId());
        expected.date("not_before", cert.getNotBefore().toInstant());
        expected.date("not_after", cert.getNotAfter().toInstant());
        expected.bool("is_ca", info.isCa());
        expected.nullableNumber("path_len", info.pathLen());
        // A certificate is "valid" when it is within its validity at validate_at and, if trust
        // anchors are given, chains to one of them (BC PKIX, as awala-jvm).
        Pki.checkValidity(cert, item.at());
        List<X509CertificateHolder> trusted = item.trusted();
        if (trusted != null) {
            try {
                Pki.buildPath(cert, List.of(), trusted, item.at());
            } catch (Exception e) {
                throw new Invalid("no path to a trusted certificate: " + e.getMessage());
            }
        }
    }

    private static void checkPath(Item item) throws Exception {
        byte[] bytes = item.bytes();
        if (item.kind().equals("certificate_rotation")) {
            if (bytes.length < 7 || !Arrays.equals(Arrays.copyOf(bytes, 7), CertPaths.ROTATION_SIGNATURE)) {
                throw new Malformed("bad CertificateRotation format signature");
            }
            bytes = Arrays.copyOfRange(bytes, 7, bytes.length);
        }
        CertPaths.Path path = CertPaths.parse(bytes);
        Fields expected = new Fields(item);
        expected.string("leaf_sha256", Util.sha256Hex(path.leaf().getEncoded()));
        List<String> cas = new ArrayList<>();
        for (X509CertificateHolder ca : path.cas()) {
            cas.add(Util.sha256Hex(ca.getEncoded()));
        }
        expected.strings("ca_sha256", cas);
        expected.string("encoding", path.encoding());
        if (path.jvmDecoderError() != null && System.getenv("VERBOSE") != null) {
            // The JS form is read here as OCTET STRINGs; an Android gateway could not read it.
            System.err.println("  (" + item.name() + ": awala-jvm decoder on the JS form -> " + path.jvmDecoderError() + ")");
        }
        // awala-jvm's CertificationPath.validate(): the last CA is the root, all CAs are candidates.
        if (path.cas().isEmpty()) {
            throw new Invalid("path has no CAs");
        }
        try {
            Pki.buildPath(path.leaf(), path.cas(), List.of(path.cas().get(path.cas().size() - 1)), item.at());
        } catch (Exception e) {
            throw new Invalid("path does not validate: " + e.getMessage());
        }
    }

    // ---- CMS ----

    private static void checkEnvelope(Item item) throws Exception {
        Cms.Envelope envelope = Cms.parseEnvelope(item.bytes());
        Fields expected = new Fields(item);
        expected.hex("recipient_key_id", envelope.recipientKeyId());
        expected.hex("originator_key_id", envelope.originatorKeyId());
        expected.string("curve", envelope.curve());
        decryptAndCompare(item, item.bytes());
    }

    private static void checkDetached(Item item) throws Exception {
        JsonObject detached = item.section("detached");
        if (detached == null) {
            throw new Malformed("manifest item lacks `detached`");
        }
        byte[] safe = Generator.safePlaintext(
                detached.get("oid").getAsString(), item.file(detached.get("plaintext").getAsString()));
        Cms.Verified verified = Cms.verify(item.bytes(), safe);
        new Fields(item).string("signer_id", Pki.subjectId(verified.signer()));
        List<X509CertificateHolder> trusted = item.trusted();
        if (trusted != null) {
            try {
                // DetachedSignatureType.verify: path from the signer cert alone to a trusted cert.
                Pki.buildPath(verified.signer(), List.of(), trusted, item.at());
            } catch (Exception e) {
                throw new Invalid("signer is not trusted: " + e.getMessage());
            }
        }
    }

    private static void checkSignedData(Item item) throws Exception {
        Cms.Verified verified = Cms.verify(item.bytes(), null);
        Fields expected = new Fields(item);
        expected.string("plaintext_sha256", Util.sha256Hex(verified.content()));
        expected.string("signer_id", Pki.subjectId(verified.signer()));
        expected.string("hash", verified.hash());
        List<X509CertificateHolder> trusted = item.trusted();
        if (trusted != null) {
            try {
                Pki.buildPath(verified.signer(), verified.others(), trusted, item.at());
            } catch (Exception e) {
                throw new Invalid("signer is not trusted: " + e.getMessage());
            }
        }
    }
}
