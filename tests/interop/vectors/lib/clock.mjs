// relaynet-core reads the wall clock (`new Date()`) deep inside Certificate.validate(),
// RAMFMessage.validate(), PNRA deserialisation and pkijs' chain validation engine, and offers
// no way to pass a date in. To validate "at validate_at" we temporarily replace the global `Date`
// with a subclass whose notion of "now" is frozen. Everything else (Date.UTC, parsing, explicit
// timestamps) behaves as usual. Items are checked one at a time, so the swap cannot leak between
// concurrent checks.

const RealDate = globalThis.Date;

function makeFrozenDate(nowMs) {
  class FrozenDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(nowMs);
      else super(...args);
    }

    static now() {
      return nowMs;
    }

    // Dates created before the swap must still pass `instanceof Date` checks (date-fns, pkijs).
    static [Symbol.hasInstance](value) {
      return value instanceof RealDate;
    }
  }
  return FrozenDate;
}

/** Run `fn` with the global clock frozen at `date`; always restores the real clock. */
export async function withClockAt(date, fn) {
  const previous = globalThis.Date;
  globalThis.Date = makeFrozenDate(date.getTime());
  try {
    return await fn();
  } finally {
    globalThis.Date = previous;
  }
}
