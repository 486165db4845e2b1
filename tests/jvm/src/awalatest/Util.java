package awalatest;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.util.encoders.Hex;

/** Small shared helpers: the BC provider instance, digests, hex, randomness, time formatting. */
final class Util {
    /** awala-jvm passes an explicit BC provider everywhere, so we do the same (no JCE registration). */
    static final Provider BC = new BouncyCastleProvider();

    static final SecureRandom RANDOM = new SecureRandom();

    private Util() {}

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String sha256Hex(byte[] data) {
        return hex(sha256(data));
    }

    static String hex(byte[] data) {
        return Hex.toHexString(data);
    }

    static byte[] unhex(String hex) {
        return Hex.decode(hex);
    }

    static byte[] randomBytes(int size) {
        byte[] bytes = new byte[size];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /** Manifest dates are ISO 8601 UTC with second precision. */
    static String iso(Instant instant) {
        return instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    static byte[] concat(byte[]... parts) {
        int size = 0;
        for (byte[] part : parts) {
            size += part.length;
        }
        byte[] out = new byte[size];
        int offset = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, offset, part.length);
            offset += part.length;
        }
        return out;
    }
}
