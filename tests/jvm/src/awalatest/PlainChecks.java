package awalatest;

/** Kinds with no CMS: checked by plain ASN.1 parsing with BC's classes. */
final class PlainChecks {
    private PlainChecks() {}

    static void check(Checker.Item item) throws Exception {
        throw new Checker.Skip("kind " + item.kind() + " not handled by the BC checker");
    }
}
