// Checks that Bouncy Castle 1.72 (awala-jvm's CMS stack) accepts what our CMS code emits.
// Produce the inputs with
//   CMS_EXPORT_DIR=<dir> cargo test --lib cms::vector_tests::export -- --ignored
// then run
//   java -cp /usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar \
//     CheckWithBouncyCastle.java <dir>
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Security;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.*;
import org.bouncycastle.cms.jcajce.*;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public class CheckWithBouncyCastle {
    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        Path directory = Path.of(args[0]);
        byte[] plaintext = Files.readAllBytes(directory.resolve("plaintext.bin"));
        for (String hash : new String[] {"Sha256", "Sha384", "Sha512"}) {
            CMSSignedData signed = new CMSSignedData(Files.readAllBytes(directory.resolve("signed-" + hash + ".der")));
            verifyOnlySigner(signed);
            if (!Arrays.equals((byte[]) signed.getSignedContent().getContent(), plaintext)) {
                throw new IllegalStateException(hash + ": plaintext");
            }
            System.out.println("signed data " + hash + ": ok");
        }
        byte[] safe = Files.readAllBytes(directory.resolve("detached-safe-plaintext.bin"));
        CMSSignedData detached = new CMSSignedData(
            new CMSProcessableByteArray(safe), Files.readAllBytes(directory.resolve("detached.der")));
        verifyOnlySigner(detached);
        System.out.println("detached signature: ok");

        PrivateKey key = KeyFactory.getInstance("EC", "BC").generatePrivate(
            new PKCS8EncodedKeySpec(Files.readAllBytes(directory.resolve("recipient.pk8"))));
        for (String name : new String[] {"default", "js"}) {
            CMSEnvelopedData envelope = new CMSEnvelopedData(
                Files.readAllBytes(directory.resolve("envelope-" + name + ".der")));
            RecipientInformation recipient = envelope.getRecipientInfos().getRecipients().iterator().next();
            byte[] decrypted = recipient.getContent(new JceKeyAgreeEnvelopedRecipient(key).setProvider("BC"));
            if (!Arrays.equals(decrypted, Arrays.copyOf(plaintext, 5000))) {
                throw new IllegalStateException(name + ": plaintext");
            }
            System.out.println("envelope " + name + ": ok");
        }
    }

    private static void verifyOnlySigner(CMSSignedData signed) throws Exception {
        if (signed.getSignerInfos().size() != 1) throw new IllegalStateException("signer count");
        SignerInformation signer = signed.getSignerInfos().getSigners().iterator().next();
        X509CertificateHolder certificate =
            (X509CertificateHolder) signed.getCertificates().getMatches(signer.getSID()).iterator().next();
        if (!signer.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(certificate))) {
            throw new IllegalStateException("signature");
        }
    }
}
