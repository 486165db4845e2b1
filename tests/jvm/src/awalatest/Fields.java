package awalatest;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Compares actual values with an item's `fields`; fields absent from the manifest are not checked. */
final class Fields {
    private final JsonObject expected;

    Fields(Checker.Item item) {
        this.expected = item.fields();
    }

    private JsonElement get(String key) {
        return expected.get(key);
    }

    void string(String key, String actual) throws Checker.Mismatch {
        JsonElement value = get(key);
        if (value == null) return;
        String want = value.isJsonNull() ? null : value.getAsString();
        if (!Objects.equals(want, actual)) {
            throw new Checker.Mismatch(key + ": expected " + want + ", got " + actual);
        }
    }

    /** Hex strings are compared case-insensitively (key ids), everything else exactly. */
    void hex(String key, String actual) throws Checker.Mismatch {
        JsonElement value = get(key);
        if (value == null) return;
        String want = value.isJsonNull() ? null : value.getAsString().toLowerCase();
        if (!Objects.equals(want, actual)) {
            throw new Checker.Mismatch(key + ": expected " + want + ", got " + actual);
        }
    }

    void number(String key, long actual) throws Checker.Mismatch {
        nullableNumber(key, actual);
    }

    void nullableNumber(String key, Long actual) throws Checker.Mismatch {
        JsonElement value = get(key);
        if (value == null) return;
        Long want = value.isJsonNull() ? null : value.getAsLong();
        if (!Objects.equals(want, actual)) {
            throw new Checker.Mismatch(key + ": expected " + want + ", got " + actual);
        }
    }

    void bool(String key, boolean actual) throws Checker.Mismatch {
        JsonElement value = get(key);
        if (value == null) return;
        if (value.getAsBoolean() != actual) {
            throw new Checker.Mismatch(key + ": expected " + value + ", got " + actual);
        }
    }

    /** Dates are compared as instants, so any ISO 8601 UTC spelling matches. */
    void date(String key, Instant actual) throws Checker.Mismatch {
        JsonElement value = get(key);
        if (value == null) return;
        Instant want = value.isJsonNull() ? null : Instant.parse(value.getAsString());
        if (!Objects.equals(want, actual)) {
            throw new Checker.Mismatch(key + ": expected " + want + ", got " + actual);
        }
    }

    void strings(String key, List<String> actual) throws Checker.Mismatch {
        JsonElement value = get(key);
        if (value == null) return;
        List<String> want = new ArrayList<>();
        for (JsonElement element : (JsonArray) value) {
            want.add(element.getAsString());
        }
        if (!want.equals(actual)) {
            throw new Checker.Mismatch(key + ": expected " + want + ", got " + actual);
        }
    }
}
