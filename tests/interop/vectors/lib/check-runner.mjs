// Generic item checker: applies MANIFEST.md's "Meaning of expect" to any kind handler.
//
// A handler has:
//   parse(bytes, io, item)     -> parsed value; throwing means "malformed"
//   fields(parsed, io, item)   -> { field: () => actual value } (evaluated lazily, per expected key)
//   validate(parsed, io, item) -> optional; throwing means "invalid"
//   decrypt(parsed, io, item)  -> optional; returns the plaintext; throwing means "invalid"
//   skip(item)                 -> optional; a reason string to skip the item
import { withClockAt } from './clock.mjs';
import { toArrayBuffer, toBuffer } from './util.mjs';

const describe = (err) => (err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err));

async function fieldMismatches(expected, actualGetters) {
  const problems = [];
  for (const [key, expectedValue] of Object.entries(expected)) {
    const getter = actualGetters[key];
    if (!getter) {
      problems.push(`unknown field ${key}`);
      continue;
    }
    let actual;
    try {
      actual = await getter();
    } catch (err) {
      problems.push(`${key}: cannot read (${describe(err)})`);
      continue;
    }
    if (JSON.stringify(actual) !== JSON.stringify(expectedValue)) {
      problems.push(`${key}: expected ${JSON.stringify(expectedValue)}, got ${JSON.stringify(actual)}`);
    }
  }
  return problems;
}

async function runStages(item, io, handler) {
  const bytes = toArrayBuffer(await io.read(item.file));
  let parsed;
  try {
    parsed = await handler.parse(bytes, io, item);
  } catch (err) {
    return item.expect === 'malformed'
      ? { status: 'ok', detail: `does not parse: ${describe(err)}` }
      : { status: 'fail', reason: `does not parse: ${describe(err)}` };
  }
  if (item.expect === 'malformed') return { status: 'fail', reason: 'parses, but malformed was expected' };

  const mismatches = await fieldMismatches(item.fields ?? {}, handler.fields(parsed, io, item));
  if (mismatches.length) return { status: 'fail', reason: mismatches.join('; ') };

  let plaintext = null;
  try {
    await handler.validate?.(parsed, io, item);
    if (item.decrypt) {
      if (!handler.decrypt) return { status: 'fail', reason: `decrypt is not supported for kind ${item.kind}` };
      plaintext = toBuffer(await handler.decrypt(parsed, io, item));
    }
  } catch (err) {
    return item.expect === 'invalid'
      ? { status: 'ok', detail: `invalid: ${describe(err)}` }
      : { status: 'fail', reason: `invalid: ${describe(err)}` };
  }
  // Decrypting to the wrong bytes is a failure whatever was expected.
  if (plaintext && !plaintext.equals(await io.read(item.decrypt.plaintext))) {
    return { status: 'fail', reason: 'decrypted plaintext differs from decrypt.plaintext' };
  }
  if (item.expect === 'invalid') return { status: 'fail', reason: 'valid, but invalid was expected' };
  if (item.expect !== 'valid') return { status: 'fail', reason: `unknown expect ${JSON.stringify(item.expect)}` };
  return { status: 'ok' };
}

/** Check one item; the whole check runs with the clock frozen at validate_at (see clock.mjs). */
export async function checkItem(item, io, handlers, createdAt) {
  const handler = handlers[item.kind];
  if (!handler) return { status: 'fail', reason: `unknown kind ${JSON.stringify(item.kind)}` };
  const skipReason = handler.skip?.(item);
  if (skipReason) return { status: 'skip', reason: skipReason };
  const at = new Date(item.validate_at ?? createdAt);
  if (Number.isNaN(at.getTime())) return { status: 'fail', reason: 'unparseable validate_at/created_at' };
  try {
    return await withClockAt(at, () => runStages(item, io, handler));
  } catch (err) {
    return { status: 'fail', reason: `checker error: ${describe(err)}` };
  }
}
