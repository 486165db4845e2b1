package awalatest;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/** Reading and writing manifest.json (schema: tests/interop/MANIFEST.md). */
final class Manifest {
    static final String FILE = "manifest.json";

    // serializeNulls: the schema uses explicit nulls (e.g. recipient_internet_address).
    private static final Gson GSON = new GsonBuilder().serializeNulls().setPrettyPrinting().create();

    private Manifest() {}

    static void write(Path dir, String producer, Instant createdAt, JsonArray items) throws IOException {
        JsonObject root = new JsonObject();
        root.addProperty("producer", producer);
        root.addProperty("created_at", Util.iso(createdAt));
        root.add("items", items);
        Files.writeString(dir.resolve(FILE), GSON.toJson(root) + "\n", StandardCharsets.UTF_8);
    }

    static JsonObject read(Path dir) throws IOException {
        return JsonParser.parseString(Files.readString(dir.resolve(FILE), StandardCharsets.UTF_8)).getAsJsonObject();
    }

    static JsonArray strings(List<String> values) {
        JsonArray array = new JsonArray();
        values.forEach(array::add);
        return array;
    }

    static JsonElement stringOrNull(String value) {
        return value == null ? JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(value);
    }

    /** A string member, or null when absent or JSON null. */
    static String optString(JsonObject object, String key) {
        JsonElement element = object.get(key);
        return element == null || element.isJsonNull() ? null : element.getAsString();
    }
}
