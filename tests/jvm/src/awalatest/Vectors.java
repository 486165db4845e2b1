package awalatest;

import java.nio.file.Files;
import java.nio.file.Path;

/** Entry point: {@code gen OUTDIR} writes Bouncy Castle vectors, {@code check INDIR} checks a manifest. */
public final class Vectors {
    private Vectors() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2 || !(args[0].equals("gen") || args[0].equals("check"))) {
            System.err.println("usage: Vectors gen OUTDIR | Vectors check INDIR");
            System.exit(2);
        }
        Path dir = Path.of(args[1]);
        if (args[0].equals("gen")) {
            Files.createDirectories(dir);
            new Generator(dir).run();
        } else {
            System.exit(Checker.run(dir));
        }
    }
}
